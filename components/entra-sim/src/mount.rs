//! Requests arriving through Spin's HTTP trigger: the component may be
//! mounted under a route prefix, and links must point back through it.

use crate::LinkBase;

/// Strips the component's route prefix from the path (by `spin-path-info`,
/// else `spin-component-route`) and records the public base URL, so links
/// point back through Spin.
pub fn rebase(mut req: http::Request<Vec<u8>>) -> Result<http::Request<Vec<u8>>, http::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = req.uri().path().to_owned();
    let info = header("spin-path-info")
        .or_else(|| {
            let route = header("spin-component-route")?;
            let rest = path.strip_prefix(route.trim_end_matches('/'))?;
            Some(rest.to_owned())
        })
        .unwrap_or_else(|| path.clone());
    let prefix = path.strip_suffix(info.as_str()).unwrap_or("").to_owned();
    let full: Option<http::Uri> = header("spin-full-url").and_then(|u| u.parse().ok());
    let scheme = full
        .as_ref()
        .and_then(|u| u.scheme_str())
        .or(req.uri().scheme_str())
        .unwrap_or("http")
        .to_owned();
    let authority = full
        .as_ref()
        .and_then(|u| u.authority())
        .or(req.uri().authority())
        .map(|a| a.to_string())
        .or_else(|| header("host"))
        .unwrap_or_else(|| "localhost".to_owned());
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{info}?{query}"),
        None => info,
    };
    *req.uri_mut() = http::Uri::builder()
        .path_and_query(path_and_query)
        .build()?;
    req.extensions_mut()
        .insert(LinkBase(format!("{scheme}://{authority}{prefix}")));
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin_request(uri: &str, path_info: &str) -> http::Request<Vec<u8>> {
        http::Request::builder()
            .uri(uri)
            .header("spin-path-info", path_info)
            .header("spin-full-url", format!("https://demo.example:3000{}", uri))
            .body(Vec::new())
            .unwrap()
    }

    #[test]
    fn a_component_under_a_route_prefix_serves_graph_paths_and_links_back_through_it() {
        let req = rebase(spin_request("/sim/v1.0/users?$top=5", "/v1.0/users")).unwrap();

        assert_eq!(req.uri().to_string(), "/v1.0/users?$top=5");
        assert_eq!(
            req.extensions().get::<LinkBase>(),
            Some(&LinkBase("https://demo.example:3000/sim".into()))
        );
    }

    #[test]
    fn without_path_info_the_component_route_is_stripped() {
        let req = http::Request::builder()
            .uri("/sim/v1.0/domains")
            .header("host", "127.0.0.1:3000")
            .header("spin-component-route", "/sim")
            .body(Vec::new())
            .unwrap();

        let req = rebase(req).unwrap();

        assert_eq!(req.uri().to_string(), "/v1.0/domains");
        assert_eq!(
            req.extensions().get::<LinkBase>(),
            Some(&LinkBase("http://127.0.0.1:3000/sim".into()))
        );
    }

    #[test]
    fn a_component_at_the_root_keeps_its_path() {
        let req = rebase(spin_request("/v1.0/domains", "/v1.0/domains")).unwrap();

        assert_eq!(req.uri().to_string(), "/v1.0/domains");
        assert_eq!(
            req.extensions().get::<LinkBase>(),
            Some(&LinkBase("https://demo.example:3000".into()))
        );
    }
}
