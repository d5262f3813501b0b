//! Answers in the contract's shape for requests the HTTP layer rejects before any route sees them.
//!
//! actix-http answers a malformed request line or head (400), a head over its size limit (431)
//! and a head that does not arrive in time (408) itself, with an empty body and no
//! `X-Request-Id`, then closes the connection; it offers no hook for those answers. [`Shaped`]
//! wraps each connection's stream and, when such a bare answer is written, writes in its place the
//! same status with a JSON `{"detail": …}` body, a fresh `X-Request-Id` and `Connection: close`.
//!
//! What it recognises is narrow: a write that *starts* a response with one of those three
//! statuses, declares `content-length: 0` and carries no `x-request-id` (every answer of ours has
//! one). Everything else passes through untouched. The connection is closed after such an answer,
//! so nothing follows it on the stream.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection's stream that replaces actix-http's bare rejections (see the module docs).
#[derive(Debug)]
pub struct Shaped<T> {
    io: T,
    /// A replacement still being written, and how much of it is written.
    pending: Vec<u8>,
    written: usize,
}

impl<T> Shaped<T> {
    /// Wraps a connection's stream.
    pub fn new(io: T) -> Self {
        Self {
            io,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The replacement for `head` when it is one of actix-http's bare rejections.
pub fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let status_line = head.get(..13)?;
    let (status, reason, detail) = match status_line.get(9..13)? {
        b"400 " => (400, "Bad Request", "Malformed request."),
        b"408 " => (
            408,
            "Request Timeout",
            "The request head was not received in time.",
        ),
        b"431 " => (
            431,
            "Request Header Fields Too Large",
            "Request header fields too large.",
        ),
        _ => return None,
    };
    let http1 = status_line.starts_with(b"HTTP/1.1 ") || status_line.starts_with(b"HTTP/1.0 ");
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let mut headers = head[..end].to_ascii_lowercase();
    headers.extend_from_slice(b"\r\n");
    let contains = |needle: &[u8]| headers.windows(needle.len()).any(|w| w == needle);
    if !http1 || !contains(b"\r\ncontent-length: 0\r\n") || contains(b"\r\nx-request-id:") {
        return None;
    }
    let body = serde_json::json!({ "detail": detail }).to_string();
    let id = format!("{:032x}", rand::random::<u128>());
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             x-request-id: {id}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> Shaped<T> {
    /// Writes what is left of a replacement.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Shaped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Shaped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some(replacement) = replacement(buf) {
            this.pending = replacement;
            this.written = 0;
            // What is not written now is written by the next write, flush or shutdown.
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn bare_rejections_get_the_contracts_shape() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let shaped = text(replacement(bare).unwrap());
        assert!(
            shaped.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{shaped}"
        );
        assert!(
            shaped.ends_with(r#"{"detail":"Malformed request."}"#),
            "{shaped}"
        );
        assert!(shaped.contains("\r\nx-request-id: "));
        assert!(shaped.contains("\r\nconnection: close\r\n"));
        let too_large =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert!(text(replacement(too_large).unwrap()).contains("too large"));
        let slow =
            b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        assert!(text(replacement(slow).unwrap()).contains("not received in time"));
    }

    #[test]
    fn every_other_answer_passes_through() {
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: abc\r\n\r\n";
        assert!(replacement(ours).is_none());
        let with_body =
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 25\r\n\r\n{\"detail\":\"JSON parse e\"}";
        assert!(replacement(with_body).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(ok).is_none());
        assert!(replacement(b"{\"bio\": \"HTTP/1.1 400 \"}").is_none());
        assert!(replacement(b"").is_none());
        // A body that happens to start like a bare answer is never a response start in practice,
        // but even then it needs the whole head.
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0").is_none());
    }
}
