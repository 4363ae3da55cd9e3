//! Requests the platform itself makes to other services (public directories, the OpenID Connect
//! provider): HTTP/1.1 over TCP or TLS (rustls, Mozilla's roots), JSON answers. Every request is
//! bounded — one deadline for the whole exchange, a cap on the answer's size, and a cap on how many
//! run at once — because some are caused by anonymous visitors (a sign-up checks its SIRET).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Longest an exchange may take, connection included.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Largest answer read (a directory entry or a key set is a few kilobytes).
const MAX_ANSWER: usize = 512 * 1024;
/// Requests in flight at once; beyond, callers wait (within their deadline).
static IN_FLIGHT: Semaphore = Semaphore::const_new(16);

/// Why a request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("adresse invalide : {0}")]
    BadUrl(String),
    #[error("délai dépassé")]
    Timeout,
    #[error("connexion impossible : {0}")]
    Connect(String),
    #[error("réponse illisible : {0}")]
    Unreadable(String),
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, OutboundError> {
        serde_json::from_slice(&self.body).map_err(|e| OutboundError::Unreadable(e.to_string()))
    }
}

static TLS: LazyLock<tokio_rustls::TlsConnector> = LazyLock::new(|| {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
});

/// `GET url`, accepting JSON.
pub async fn get(url: &str) -> Result<Answer, OutboundError> {
    send(Method::GET, url, &[], None).await
}

/// `GET url` with extra headers (e.g. `Authorization: Bearer`).
pub async fn get_with(url: &str, headers: &[(&str, String)]) -> Result<Answer, OutboundError> {
    send(Method::GET, url, headers, None).await
}

/// `POST url` with a form body and extra headers (e.g. `Authorization`).
pub async fn post_form(url: &str, headers: &[(&str, String)], form: String) -> Result<Answer, OutboundError> {
    send(Method::POST, url, headers, Some(form)).await
}

async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    form: Option<String>,
) -> Result<Answer, OutboundError> {
    tokio::time::timeout(DEADLINE, async {
        let _permit = IN_FLIGHT.acquire().await.map_err(|e| OutboundError::Connect(e.to_string()))?;
        exchange(method, url, headers, form).await
    })
    .await
    .map_err(|_| OutboundError::Timeout)?
}

async fn exchange(
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    form: Option<String>,
) -> Result<Answer, OutboundError> {
    let uri: Uri = url.parse().map_err(|_| OutboundError::BadUrl(url.to_string()))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(OutboundError::BadUrl(url.to_string())),
    };
    let host = uri.host().ok_or_else(|| OutboundError::BadUrl(url.to_string()))?.to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri.authority().map(|a| a.as_str().to_string()).unwrap_or_else(|| host.clone());
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let tcp = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port))
        .await
        .map_err(|e| OutboundError::Connect(e.to_string()))?;
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, authority)
        .header(header::USER_AGENT, concat!("semaine-industrie/", env!("CARGO_PKG_VERSION")))
        .header(header::ACCEPT, "application/json");
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Full::new(Bytes::from(f))
        }
        None => Full::new(Bytes::new()),
    };
    let req = req.body(body).map_err(|e| OutboundError::BadUrl(e.to_string()))?;
    if https {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| OutboundError::BadUrl(url.to_string()))?;
        let tls = TLS.connect(name, tcp).await.map_err(|e| OutboundError::Connect(e.to_string()))?;
        over(TokioIo::new(tls), req).await
    } else {
        over(TokioIo::new(tcp), req).await
    }
}

async fn over<T>(io: T, req: Request<Full<Bytes>>) -> Result<Answer, OutboundError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| OutboundError::Connect(e.to_string()))?;
    // The connection task ends with the exchange (one request per connection).
    let driver = tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| OutboundError::Connect(e.to_string()))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = Limited::new(resp.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| OutboundError::Unreadable(e.to_string()))?
        .to_bytes();
    driver.abort();
    Ok(Answer { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_what_it_cannot_use_and_speaks_tls() {
        assert!(matches!(get("ftp://exemple.fr/x").await, Err(OutboundError::BadUrl(_))));
        assert!(matches!(get("pas une adresse").await, Err(OutboundError::BadUrl(_))));
        // A server that is not TLS: the handshake fails cleanly (and the TLS setup itself works).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let (mut s, _) = listener.accept().await.unwrap();
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
        });
        assert!(matches!(get(&format!("https://{addr}/")).await, Err(OutboundError::Connect(_))));
    }

    #[tokio::test]
    async fn an_answer_larger_than_the_cap_is_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let (mut s, _) = listener.accept().await.unwrap();
            let body = vec![b'x'; MAX_ANSWER + 1];
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        });
        assert!(matches!(get(&format!("http://{addr}/")).await, Err(OutboundError::Unreadable(_))));
    }
}
