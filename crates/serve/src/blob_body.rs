//! A blob's bytes as a response body, read chunk by chunk from the file the
//! reader opened. The open descriptor is what keeps the bytes: a GC in
//! another process may unlink the blob mid-transfer and the transfer still
//! completes (the kernel frees the inode when the last descriptor closes).

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use hoist::content::BlobReader;
use http_body_util::{BodyExt, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;

use crate::chunk_pool::{self, CHUNK};

/// Bytes `start..end` of the blob `reader` holds, streamed.
pub(crate) fn blob_body(
    reader: BlobReader,
    start: u64,
    end: u64,
) -> UnsyncBoxBody<Bytes, io::Error> {
    let reader = Arc::new(reader);
    let stream = futures_util::stream::unfold(start, move |offset| {
        let reader = Arc::clone(&reader);
        async move {
            if offset >= end {
                return None;
            }
            let want = usize::try_from(end - offset).unwrap_or(CHUNK).min(CHUNK);
            let mut buf = chunk_pool::take();
            let read = tokio::task::spawn_blocking(move || {
                let n = reader
                    .read_at(&mut buf[..want], offset)
                    .map_err(io::Error::other)?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("blob {} ended at {offset}", reader.digest()),
                    ));
                }
                Ok(chunk_pool::freeze(buf, n))
            })
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join)));
            match read {
                Ok(bytes) => {
                    let next = offset + bytes.len() as u64;
                    Some((Ok(Frame::data(bytes)), next))
                }
                // One error ends the stream: hyper aborts the connection, so
                // the client sees a short body, never wrong bytes.
                Err(error) => Some((Err(error), end)),
            }
        }
    });
    BodyExt::boxed_unsync(StreamBody::new(StreamExt::boxed(stream)))
}
