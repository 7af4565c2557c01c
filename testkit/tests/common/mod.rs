//! A minimal SigV4 client for the testkit's own tests: one HTTP/1.1
//! connection, requests signed with aws-sigv4 the way S3 expects.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// Credentials and region a request is signed with.
#[derive(Clone)]
pub struct Signer {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

impl Signer {
    pub fn for_server(server: &s3sql_testkit::S3Server) -> Signer {
        Signer {
            access_key_id: server.access_key_id().to_owned(),
            secret_access_key: server.secret_access_key().to_owned(),
            region: server.region().to_owned(),
        }
    }
}

/// What came back: status, headers and the body, or the error that cut it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Body bytes received before the end or the error.
    pub body: Vec<u8>,
    pub body_error: Option<hyper::Error>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text between the first `<tag>` and `</tag>` of the body.
    pub fn xml(&self, tag: &str) -> Option<String> {
        let text = self.text();
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{tag}>"))?;
        Some(text[start..end].to_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One keep-alive HTTP/1.1 connection to `addr`, sending `Host: host`.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects to `addr`; requests carry `Host: <addr>`.
    pub async fn open(addr: SocketAddr) -> Conn {
        Conn::open_as(addr, &addr.to_string()).await
    }

    /// Connects to `addr`; requests carry `Host: <host>` (virtual-hosted style
    /// without DNS).
    pub async fn open_as(addr: SocketAddr, host: &str) -> Conn {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Conn {
            sender,
            host: host.to_owned(),
        }
    }

    /// A request with `Host` set, unsigned.
    pub fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: &[u8],
    ) -> Request<Full<Bytes>> {
        Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(http::header::HOST, &self.host)
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap()
    }

    /// A request signed with `signer`, its payload hash included.
    pub fn signed(
        &self,
        signer: &Signer,
        method: Method,
        path_and_query: &str,
        body: &[u8],
    ) -> Request<Full<Bytes>> {
        let mut req = self.request(method, path_and_query, body);
        let identity: Identity = aws_credential_types::Credentials::new(
            signer.access_key_id.clone(),
            signer.secret_access_key.clone(),
            None,
            None,
            "testkit",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&signer.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = format!("http://{}{path_and_query}", self.host);
        let headers = [("host", self.host.as_str())].into_iter();
        let signable = SignableRequest::new(
            req.method().as_str(),
            url,
            headers,
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        req
    }

    /// Sends `req` and reads the whole reply; `Err` when no response came.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Reply, hyper::Error> {
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let (parts, mut body) = resp.into_parts();
        let mut bytes = Vec::new();
        let mut body_error = None;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Err(e) => {
                    body_error = Some(e);
                    break;
                }
            }
        }
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: bytes,
            body_error,
        })
    }

    /// Signs and sends; panics when no response came.
    pub async fn call(
        &mut self,
        signer: &Signer,
        method: Method,
        path_and_query: &str,
        body: &[u8],
    ) -> Reply {
        let req = self.signed(signer, method.clone(), path_and_query, body);
        self.send(req)
            .await
            .unwrap_or_else(|e| panic!("{method} {path_and_query}: no response: {e}"))
    }
}

/// Lowercase hex MD5 of `data`, as S3 puts it in an ETag.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
