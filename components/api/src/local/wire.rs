//! HTTP/1.1 on the wire, the small part `idp-sync-local` needs: one request
//! per connection, its body sized by `Content-Length` (the console, curl and
//! the tests all send one), and a response that always closes the connection.

use std::io::{self, BufRead, Read, Write};

use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use http::{Method, StatusCode};

use crate::error::ApiError;
use crate::request::MAX_BODY_BYTES;
use crate::respond::{Request, Response};

/// The request line and headers together may not exceed this.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// More header lines than this is not a browser or curl.
const MAX_HEADERS: usize = 100;

/// Why no request could be read from a connection.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the connection closed before a request arrived")]
    Closed,
    #[error("reading the request: {0}")]
    Io(io::Error),
    /// The whole request did not arrive before the connection's deadline.
    #[error("the request did not arrive in time")]
    TimedOut,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("malformed request: {0}")]
    Http(#[from] http::Error),
    #[error("the request line and headers exceed {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("request bodies must carry Content-Length (Transfer-Encoding is not supported)")]
    LengthRequired,
    #[error("request body exceeds {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
}

impl From<io::Error> for ReadError {
    /// A read or write that failed with `TimedOut` ran out of the
    /// connection's deadline; anything else is the connection failing.
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::TimedOut => ReadError::TimedOut,
            _ => ReadError::Io(error),
        }
    }
}

impl ReadError {
    /// The answer the client should get, or `None` when the connection is
    /// gone or stalled and closing it is all there is to do.
    pub fn response(&self) -> Option<Response> {
        match self {
            ReadError::Closed | ReadError::Io(_) => None,
            ReadError::TimedOut => Some(
                ApiError::RequestTimeout {
                    secs: super::REQUEST_DEADLINE.as_secs(),
                }
                .into_response(),
            ),
            // Refused before reading it: the router would answer the same.
            ReadError::BodyTooLarge => Some(
                ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                }
                .into_response(),
            ),
            _ => Some(ApiError::BadRequest(self.to_string()).into_response()),
        }
    }
}

/// Reads one request from `input`. When the client asked for
/// `Expect: 100-continue`, the interim `100 Continue` goes to `interim`
/// before the body is read.
pub fn read_request(
    input: &mut impl BufRead,
    interim: &mut impl Write,
) -> Result<Request, ReadError> {
    let mut budget = MAX_HEAD_BYTES;
    // A client may send empty lines before the request line (RFC 9112 §2.2).
    let request_line = loop {
        match read_line(input, &mut budget)? {
            None => return Err(ReadError::Closed),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed(
            "the request line is not `METHOD target HTTP/1.1`",
        ));
    };
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        return Err(ReadError::Malformed(
            "only HTTP/1.0 and HTTP/1.1 are served",
        ));
    }
    let mut builder = http::Request::builder()
        .method(Method::from_bytes(method).map_err(http::Error::from)?)
        .uri(target);
    let mut count = 0;
    loop {
        let line =
            read_line(input, &mut budget)?.ok_or(io::Error::from(io::ErrorKind::UnexpectedEof))?;
        if line.is_empty() {
            break;
        }
        count += 1;
        if count > MAX_HEADERS {
            return Err(ReadError::HeadTooLarge);
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(ReadError::Malformed("folded header lines are not allowed"));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(ReadError::Malformed("a header line has no colon"))?;
        let value = line[colon + 1..].trim_ascii();
        builder = builder.header(&line[..colon], value);
    }
    let mut request = builder.body(Vec::new())?;
    let headers = request.headers();
    if headers.contains_key(TRANSFER_ENCODING) {
        return Err(ReadError::LengthRequired);
    }
    let length = content_length(headers)?;
    if length > MAX_BODY_BYTES as u64 {
        return Err(ReadError::BodyTooLarge);
    }
    let expects_continue = headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue && length > 0 {
        interim.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        interim.flush()?;
    }
    let body = request.body_mut();
    (&mut *input).take(length).read_to_end(body)?;
    if (body.len() as u64) < length {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    Ok(request)
}

/// One line without its line ending (CRLF or a bare LF), or `None` at the
/// end of input; counts its bytes against `budget`.
fn read_line(input: &mut impl BufRead, budget: &mut usize) -> Result<Option<Vec<u8>>, ReadError> {
    let mut line = Vec::new();
    (&mut *input)
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if line.len() > *budget {
        return Err(ReadError::HeadTooLarge);
    }
    *budget -= line.len();
    match line.last() {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// The body's length: 0 without `Content-Length`; repeated values must agree.
fn content_length(headers: &http::HeaderMap) -> Result<u64, ReadError> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let bytes = value.as_bytes();
        let parsed = std::str::from_utf8(bytes)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(ReadError::Malformed("Content-Length is not a number"))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(ReadError::Malformed("conflicting Content-Length values"));
        }
        length = Some(parsed);
    }
    Ok(length.unwrap_or(0))
}

/// Writes `response` with `Connection: close`. Answers to HEAD, and 204 and
/// 304 responses, carry neither a body nor `Content-Length`.
pub fn write_response(out: &mut impl Write, response: &Response, head: bool) -> io::Result<()> {
    let status = response.status();
    write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    )?;
    for (name, value) in response.headers() {
        // Framing is this function's business, not the handler's.
        if name == CONNECTION || name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        out.write_all(name.as_str().as_bytes())?;
        out.write_all(b": ")?;
        out.write_all(value.as_bytes())?;
        out.write_all(b"\r\n")?;
    }
    let bodiless = head || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    if !bodiless {
        write!(out, "content-length: {}\r\n", response.body().len())?;
    }
    out.write_all(b"connection: close\r\n\r\n")?;
    if !bodiless {
        out.write_all(response.body())?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &[u8]) -> (Result<Request, ReadError>, Vec<u8>) {
        let mut interim = Vec::new();
        let result = read_request(&mut &raw[..], &mut interim);
        (result, interim)
    }

    #[test]
    fn reads_a_json_post_with_its_body() {
        let (request, interim) = read(
            b"POST /api/v1/orgs?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n\
              Content-Length: 18\r\n\r\n{\"name\":\"Contoso\"}extra",
        );
        let request = request.expect("a valid request");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/api/v1/orgs?x=1");
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(request.body(), b"{\"name\":\"Contoso\"}");
        assert!(interim.is_empty());
    }

    #[test]
    fn answers_expect_continue_before_reading_the_body() {
        let (request, interim) =
            read(b"PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(request.expect("a valid request").body(), b"{}");
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn refuses_chunked_oversized_and_malformed_requests() {
        let cases: [(&[u8], StatusCode); 5] = [
            (
                b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                StatusCode::BAD_REQUEST,
            ),
            (
                b"POST /x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                b"POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                StatusCode::BAD_REQUEST,
            ),
            (b"GET /x HTTP/2\r\n\r\n", StatusCode::BAD_REQUEST),
            (
                b"GET /x HTTP/1.1\r\nno colon\r\n\r\n",
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (raw, status) in cases {
            let (result, _) = read(raw);
            let error = result.expect_err("refused");
            let response = error.response().expect("an answer");
            assert_eq!(response.status(), status, "{error}");
        }
    }

    #[test]
    fn a_head_larger_than_the_limit_is_refused() {
        let raw = format!(
            "GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert!(matches!(
            read(raw.as_bytes()).0,
            Err(ReadError::HeadTooLarge)
        ));
    }

    #[test]
    fn silent_or_truncated_connections_get_no_answer() {
        for raw in [
            &b""[..],
            b"\r\n",
            b"GET / HTTP/1.1\r\nHost: a",
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n{}",
        ] {
            let error = read(raw).0.expect_err("nothing to serve");
            assert!(error.response().is_none(), "{error}");
        }
    }

    /// Gives `data`, then fails as a socket does whose deadline passed.
    struct Stalls<'a>(&'a [u8]);

    impl Read for Stalls<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_request_cut_off_by_its_deadline_is_answered_408() {
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n{}",
        ] {
            let mut input = io::BufReader::new(Stalls(raw));
            let error = read_request(&mut input, &mut Vec::new()).expect_err("cut off");
            assert!(matches!(error, ReadError::TimedOut), "{error}");
            let response = error.response().expect("an answer");
            assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        }
    }

    #[test]
    fn responses_close_the_connection_and_head_has_no_body() {
        let mut response = http::Response::new(b"hello".to_vec());
        response
            .headers_mut()
            .insert(CONNECTION, http::HeaderValue::from_static("keep-alive"));
        let mut get = Vec::new();
        write_response(&mut get, &response, false).expect("written");
        assert_eq!(
            String::from_utf8(get).expect("text"),
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"
        );
        let mut head = Vec::new();
        write_response(&mut head, &response, true).expect("written");
        assert_eq!(
            String::from_utf8(head).expect("text"),
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"
        );
    }
}
