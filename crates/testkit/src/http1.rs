//! Just enough HTTP/1.1 for the testkit's servers: read a message head, write
//! a response. Every connection carries one exchange (`Connection: close`),
//! which keeps the proxy's byte counting exact.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Heads larger than this are refused; registries and clients send far less.
const MAX_HEAD: usize = 64 * 1024;

/// A parsed request or response head.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// Request: method. Response: empty.
    pub method: String,
    /// Request: path with query. Response: empty.
    pub path: String,
    /// Response: status code. Request: 0.
    pub status: u16,
    /// Header names (as sent) and values.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads until the end of a head; returns the raw head bytes and whatever of
/// the body arrived with them. `None` when the peer closed before a head.
async fn read_raw_head<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find_head_end(&buffer) {
            let rest = buffer.split_off(end);
            return Ok(Some((buffer, rest)));
        }
        if buffer.len() > MAX_HEAD {
            return Err(std::io::Error::other("message head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buffer.is_empty() {
                Ok(None)
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed inside a message head",
                ))
            };
        }
        buffer.extend_from_slice(&chunk[..n]);
        // An HTTP message starts with a token; anything else (a TLS
        // ClientHello from a client probing for HTTPS) is refused at once,
        // as a real server does, instead of waiting for a head that never
        // comes.
        if !buffer[0].is_ascii_alphabetic() {
            return Err(std::io::Error::other("not an HTTP message"));
        }
    }
}

fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

fn collect_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Reads a request head. Returns the head and the body bytes already read.
pub(crate) async fn read_request<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> std::io::Result<Option<(Head, Vec<u8>)>> {
    let Some((raw, rest)) = read_raw_head(stream).await? else {
        return Ok(None);
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    request
        .parse(&raw)
        .map_err(|e| std::io::Error::other(format!("bad request head: {e}")))?;
    let head = Head {
        method: request.method.unwrap_or_default().to_owned(),
        path: request.path.unwrap_or_default().to_owned(),
        status: 0,
        headers: collect_headers(request.headers),
    };
    Ok(Some((head, rest)))
}

/// Reads a response head. Returns the head and the body bytes already read.
pub(crate) async fn read_response<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> std::io::Result<Option<(Head, Vec<u8>)>> {
    let Some((raw, rest)) = read_raw_head(stream).await? else {
        return Ok(None);
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    response
        .parse(&raw)
        .map_err(|e| std::io::Error::other(format!("bad response head: {e}")))?;
    let head = Head {
        method: String::new(),
        path: String::new(),
        status: response.code.unwrap_or_default(),
        headers: collect_headers(response.headers),
    };
    Ok(Some((head, rest)))
}

/// Reads a request body of `Content-Length` bytes (no chunked bodies: the
/// issuer's clients send form bodies with a length).
pub(crate) async fn read_body<R: AsyncRead + Unpin>(
    stream: &mut R,
    head: &Head,
    mut already: Vec<u8>,
) -> std::io::Result<Vec<u8>> {
    let length: usize = head
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if length > MAX_HEAD {
        return Err(std::io::Error::other("request body too large"));
    }
    while already.len() < length {
        let mut chunk = vec![0u8; length - already.len()];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside a request body",
            ));
        }
        already.extend_from_slice(&chunk[..n]);
    }
    already.truncate(length);
    Ok(already)
}

/// Reads and discards the rest of a `Content-Length` request body of which
/// `already` bytes were read with the head.
pub(crate) async fn drain_body<R: AsyncRead + Unpin>(
    stream: &mut R,
    head: &Head,
    already: usize,
) -> std::io::Result<()> {
    let length: u64 = head
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let remaining = length.saturating_sub(already as u64);
    tokio::io::copy(&mut stream.take(remaining), &mut tokio::io::sink()).await?;
    Ok(())
}

/// Serializes a head for forwarding, with `Connection: close` in place of any
/// connection-management header the sender chose.
pub(crate) fn encode_head(first_line: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut out = format!("{first_line}\r\n");
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// Writes a whole response and flushes it.
pub(crate) async fn write_response<W: AsyncWrite + Unpin>(
    stream: &mut W,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect();
    all.push(("Content-Length".to_owned(), body.len().to_string()));
    let mut bytes = encode_head(&format!("HTTP/1.1 {status} {}", reason(status)), &all);
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await?;
    stream.flush().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
