//! [`IdentitySource`] over Graph: which URLs, and how pages map.

use engine::ports::{
    Arrived, DeltaFrom, DeltaToken, GroupChange, IdentitySource, MAX_PAGE_ITEMS, Member, Page,
    PageToken, SourceDomain, SourceError, SourceGroup, SourceUser, UserChange,
};
use url::Url;

use crate::client::parse_body;
use crate::wire::{
    Collection, DomainJson, GROUP_DELTA_FIELDS, GROUP_FIELDS, LinksFirst, MEMBER_FIELDS,
    ObjectJson, USER_FIELDS,
};
use crate::{GraphClient, HttpClient, Pause};

impl<H: HttpClient, P: Pause> GraphClient<H, P> {
    /// `{graph_base}/v1.0/{segments...}?{query}`; segments are percent-encoded.
    fn api_url(&self, segments: &[&str], query: &str) -> Url {
        let mut url = self.graph_base().clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1.0").extend(segments);
        }
        url.set_query(Some(query));
        url
    }

    /// A paging or delta link from Graph, accepted only on the configured
    /// Graph scheme, host and port. Anything else is never fetched.
    fn trusted_link(&self, link: &str) -> Result<Url, SourceError> {
        let foreign = || SourceError::ForeignLink(link.to_owned());
        let url = Url::parse(link).map_err(|_| foreign())?;
        let base = self.graph_base();
        if url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
        {
            Ok(url)
        } else {
            Err(foreign())
        }
    }

    /// Fetches one page. When its next link comes before its `value`, as
    /// Graph writes it, the page arrives with its links and its items are
    /// decoded and mapped only when the engine asks ([`Arrived::decode`]):
    /// the engine sends the next page's request first (decision 0011).
    /// Otherwise (the last page, or `value` first) the whole body is
    /// decoded now. Links are checked before they reach the engine's
    /// cursor; errors are the same either way, redacted alike.
    async fn page<T: 'static>(
        &self,
        url: &Url,
        map: MapItem<T>,
    ) -> Result<Arrived<T>, SourceError> {
        let body = self.get_body(url).await?;
        let scrubber = self.scrubber();
        if let Some(links) = LinksFirst::read(&body).filter(|l| l.next_link.is_some()) {
            let (next, delta) = self.checked_links(links.next_link, links.delta_link)?;
            let url = url.to_string();
            let decode = move || {
                let collection: Collection<ObjectJson> = parse_body(&body, &url, &scrubber)?;
                map_items(collection.value, map)
            };
            return Ok(Arrived::deferred(next, delta, decode));
        }
        let collection: Collection<ObjectJson> = parse_body(&body, url.as_str(), &scrubber)?;
        let (next, delta) = self.checked_links(collection.next_link, collection.delta_link)?;
        let items = map_items(collection.value, map)?;
        Ok(Page { items, next, delta }.into())
    }

    /// A page's next and delta links, each accepted only if trusted.
    fn checked_links(
        &self,
        next_link: Option<String>,
        delta_link: Option<String>,
    ) -> Result<(Option<PageToken>, Option<DeltaToken>), SourceError> {
        let next = match next_link {
            Some(link) => Some(PageToken(self.trusted_link(&link)?.into())),
            None => None,
        };
        let delta = match delta_link {
            Some(link) => Some(DeltaToken(self.trusted_link(&link)?.into())),
            None => None,
        };
        Ok((next, delta))
    }

    /// The first page's URL, or the link carried by `page`.
    fn start_or_follow(&self, page: Option<&PageToken>, first: Url) -> Result<Url, SourceError> {
        match page {
            Some(PageToken(link)) => self.trusted_link(link),
            None => Ok(first),
        }
    }

    fn delta_url(&self, from: &DeltaFrom, first: Url) -> Result<Url, SourceError> {
        match from {
            DeltaFrom::Start => Ok(first),
            DeltaFrom::Page(PageToken(link)) | DeltaFrom::Delta(DeltaToken(link)) => {
                self.trusted_link(link)
            }
        }
    }
}

/// How one of a page's `value` entries maps to the engine's type.
type MapItem<T> = fn(ObjectJson) -> Result<T, SourceError>;

/// A page's `value` entries mapped by `map`, in order; the first that does
/// not map fails them all.
fn map_items<T>(value: Vec<ObjectJson>, map: MapItem<T>) -> Result<Vec<T>, SourceError> {
    value.into_iter().map(map).collect()
}

/// A refusal of the *first* delta request (no token yet) means the tenant
/// has no delta for `collection`: 404 `Request_ResourceNotFound`, or 400
/// for an unsupported query (Graph's "Use delta query" page lists the
/// resources and query options delta supports). Later refusals keep their
/// meaning (an expired token is `TokenExpired` already).
fn delta_availability<T>(
    from: &DeltaFrom,
    collection: &str,
    page: Result<Arrived<T>, SourceError>,
) -> Result<Arrived<T>, SourceError> {
    match (from, page) {
        (DeltaFrom::Start, Err(SourceError::NotFound(message)))
        | (
            DeltaFrom::Start,
            Err(SourceError::Graph {
                status: 400,
                message,
                ..
            }),
        ) => Err(SourceError::DeltaUnavailable(format!(
            "{collection}/delta: {message}"
        ))),
        (_, page) => page,
    }
}

impl<H: HttpClient, P: Pause> IdentitySource for GraphClient<H, P> {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError> {
        let mut url = self.api_url(&["domains"], "$select=id,isVerified");
        let mut domains = Vec::new();
        loop {
            let page: Collection<DomainJson> = self.get_json(&url).await?;
            domains.extend(page.value.into_iter().map(SourceDomain::from));
            match page.next_link {
                Some(link) => url = self.trusted_link(&link)?,
                None => return Ok(domains),
            }
        }
    }

    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError> {
        let url = self.api_url(&["groups", id], &format!("$select={GROUP_FIELDS}"));
        match self.get_json::<ObjectJson>(&url).await {
            Ok(group) => group.into_group().map(Some),
            Err(SourceError::NotFound(_)) => Ok(None),
            // Graph refuses an id that is not GUID-shaped instead of saying
            // 404; no group has such an id either.
            Err(SourceError::Graph {
                status: 400,
                code,
                message,
                ..
            }) if code == "Request_BadRequest"
                && message.starts_with("Invalid object identifier") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn users(&self, page: Option<&PageToken>) -> Result<Arrived<SourceUser>, SourceError> {
        let first = self.api_url(
            &["users"],
            &format!("$select={USER_FIELDS}&$top={MAX_PAGE_ITEMS}"),
        );
        let url = self.start_or_follow(page, first)?;
        self.page(&url, ObjectJson::into_user).await
    }

    async fn groups(&self, page: Option<&PageToken>) -> Result<Arrived<SourceGroup>, SourceError> {
        let first = self.api_url(
            &["groups"],
            &format!("$select={GROUP_FIELDS}&$top={MAX_PAGE_ITEMS}"),
        );
        let url = self.start_or_follow(page, first)?;
        self.page(&url, ObjectJson::into_group).await
    }

    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Arrived<Member>, SourceError> {
        let relation = if transitive {
            "transitiveMembers"
        } else {
            "members"
        };
        let first = self.api_url(
            &["groups", group_id, relation],
            &format!("$select={MEMBER_FIELDS}&$top={MAX_PAGE_ITEMS}"),
        );
        let url = self.start_or_follow(page, first)?;
        self.page(&url, ObjectJson::into_member).await
    }

    async fn users_delta(&self, from: &DeltaFrom) -> Result<Arrived<UserChange>, SourceError> {
        let first = self.api_url(&["users", "delta"], &format!("$select={USER_FIELDS}"));
        let url = self.delta_url(from, first)?;
        let page = self.page(&url, ObjectJson::into_user_change).await;
        delta_availability(from, "users", page)
    }

    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Arrived<GroupChange>, SourceError> {
        let first = self.api_url(
            &["groups", "delta"],
            &format!("$select={GROUP_DELTA_FIELDS}"),
        );
        let url = self.delta_url(from, first)?;
        let page = self.page(&url, ObjectJson::into_group_change).await;
        delta_availability(from, "groups", page)
    }
}
