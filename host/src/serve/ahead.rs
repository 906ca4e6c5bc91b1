//! A 0.3 response's head waits for what its body has ready once the app has
//! had its next turns, so that a short response leaves in one write.
//!
//! A WASI 0.3 handler returns its response first and writes the body after,
//! often on a task of its own: when the response reaches hyper, its body
//! has nothing yet, and hyper writes the head at once and the body and its
//! end in a second write. On loopback each write costs the sender and the
//! receiver a trip through the TCP stack and a wake-up (measured on the 0.3
//! hello handler: two `writev` calls per request before, one after).
//!
//! [`read_ahead`] gives the app [`TURNS`] scheduler turns (it yields to the
//! runtime, where the app's instance runs) and takes the frames its body
//! has ready by then, up to [`MAX_AHEAD`] bytes and [`MAX_FRAMES`] frames.
//! A body that is not ready by then is not waited for: a response that
//! streams slowly still sends its head at once.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};

use super::ResponseBody;

/// Scheduler turns the app gets to write its body before the head leaves
/// without it: the hello handler needs two (one to write the body, one to
/// close it and its trailers).
pub(super) const TURNS: usize = 2;

/// The most body bytes taken ahead of the head.
pub(super) const MAX_AHEAD: usize = 64 << 10;

/// The most frames taken ahead of the head (empty ones count too: a body
/// that is always ready with empty frames must not hold the head).
pub(super) const MAX_FRAMES: usize = 64;

type Polled = Result<Frame<Bytes>, wasmtime_wasi_http::Error>;

/// The response, with the frames its body had ready within [`TURNS`]
/// turns taken ahead (see the module's documentation).
pub(super) async fn read_ahead(
    response: hyper::Response<ResponseBody>,
) -> hyper::Response<ResponseBody> {
    let (parts, mut body) = response.into_parts();
    let mut taken = VecDeque::new();
    let mut bytes = 0;
    let mut turns = 0;
    let ended = loop {
        if bytes >= MAX_AHEAD || taken.len() >= MAX_FRAMES {
            break false;
        }
        match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx))).await {
            Poll::Ready(Some(Ok(frame))) => {
                bytes += frame.data_ref().map_or(0, Bytes::len);
                taken.push_back(Ok(frame));
            }
            Poll::Ready(Some(Err(err))) => {
                taken.push_back(Err(err));
                break false;
            }
            Poll::Ready(None) => break true,
            Poll::Pending if turns < TURNS => {
                turns += 1;
                tokio::task::yield_now().await;
            }
            Poll::Pending => break false,
        }
    };
    if taken.is_empty() && !ended {
        return hyper::Response::from_parts(parts, body);
    }
    let body = Ahead {
        taken,
        rest: body,
        ended,
    };
    hyper::Response::from_parts(parts, http_body_util::BodyExt::boxed_unsync(body))
}

/// A body whose first frames were taken ahead: those, then the rest. The
/// body is kept after its end, so that the size it reports stays its own:
/// exact only if the app declared a `content-length` (hyper would send an
/// exact size as one, and stop polling once that many bytes are out, which
/// would make a response cut off by a trap look complete and drop
/// trailers).
struct Ahead {
    taken: VecDeque<Polled>,
    rest: ResponseBody,
    /// The body had ended when it was read ahead.
    ended: bool,
}

impl Body for Ahead {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Polled>> {
        if let Some(frame) = self.taken.pop_front() {
            return Poll::Ready(Some(frame));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    /// True once the frames taken are out and the body had ended: hyper
    /// then writes the last frame and the body's end together.
    fn is_end_stream(&self) -> bool {
        self.taken.is_empty() && (self.ended || self.rest.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let taken: u64 = self
            .taken
            .iter()
            .filter_map(|frame| frame.as_ref().ok()?.data_ref())
            .map(|data| data.len() as u64)
            .sum();
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower().saturating_add(taken));
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper.saturating_add(taken));
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body of these frames, then these from a channel: a frame per
    /// message, the end when the sender goes.
    struct Fed {
        first: VecDeque<Polled>,
        receiver: tokio::sync::mpsc::UnboundedReceiver<Bytes>,
    }

    impl Body for Fed {
        type Data = Bytes;
        type Error = wasmtime_wasi_http::Error;

        fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Polled>> {
            if let Some(frame) = self.first.pop_front() {
                return Poll::Ready(Some(frame));
            }
            self.receiver
                .poll_recv(cx)
                .map(|data| data.map(|data| Ok(Frame::data(data))))
        }
    }

    fn fed(
        first: Vec<Polled>,
    ) -> (
        tokio::sync::mpsc::UnboundedSender<Bytes>,
        hyper::Response<ResponseBody>,
    ) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
        let body = Fed {
            first: first.into(),
            receiver,
        };
        (sender, hyper::Response::new(body.boxed_unsync()))
    }

    fn channel_body() -> (
        tokio::sync::mpsc::UnboundedSender<Bytes>,
        hyper::Response<ResponseBody>,
    ) {
        fed(Vec::new())
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    }

    #[test]
    fn a_body_written_and_ended_within_the_turns_is_taken_whole() {
        runtime().block_on(async {
            let (sender, response) = channel_body();
            // The app writes on its next turn and ends on the one after.
            tokio::spawn(async move {
                sender.send(Bytes::from_static(b"hello\n")).unwrap();
                tokio::task::yield_now().await;
                drop(sender);
            });
            let mut body = read_ahead(response).await.into_body();
            assert!(!body.is_end_stream());
            // No length is made up: the app declared none, so the
            // response stays chunked (an exact size would be sent as a
            // content-length, and hyper would not poll past it).
            assert_eq!(body.size_hint().exact(), None);
            let frame = body.frame().await.unwrap().unwrap();
            assert_eq!(frame.into_data().unwrap(), "hello\n");
            // hyper writes the end with the last frame.
            assert!(body.is_end_stream());
            assert!(body.frame().await.is_none());
        });
    }

    #[test]
    fn a_body_not_ready_within_the_turns_is_not_waited_for() {
        runtime().block_on(async {
            let (sender, response) = channel_body();
            let body = read_ahead(response).await.into_body();
            assert!(!body.is_end_stream());
            // What the app writes later still arrives, in order.
            sender.send(Bytes::from_static(b"late")).unwrap();
            sender.send(Bytes::from_static(b"r")).unwrap();
            drop(sender);
            let all = body.collect().await.unwrap().to_bytes();
            assert_eq!(all, "later");
        });
    }

    #[test]
    fn a_body_partly_ready_keeps_its_rest() {
        runtime().block_on(async {
            let (sender, response) = channel_body();
            sender.send(Bytes::from_static(b"first ")).unwrap();
            let body = read_ahead(response).await.into_body();
            assert_eq!(body.size_hint().lower(), 6);
            assert!(!body.is_end_stream());
            sender.send(Bytes::from_static(b"second")).unwrap();
            drop(sender);
            let all = body.collect().await.unwrap().to_bytes();
            assert_eq!(all, "first second");
        });
    }

    #[test]
    fn at_most_max_ahead_bytes_are_taken() {
        runtime().block_on(async {
            let (sender, response) = channel_body();
            let chunk = Bytes::from(vec![b'x'; 16 << 10]);
            for _ in 0..8 {
                sender.send(chunk.clone()).unwrap();
            }
            drop(sender);
            let body = read_ahead(response).await.into_body();
            assert_eq!(body.size_hint().lower() as usize, MAX_AHEAD);
            assert!(!body.is_end_stream());
            let all = body.collect().await.unwrap().to_bytes();
            assert_eq!(all.len(), 8 * (16 << 10));
        });
    }

    #[test]
    fn a_body_always_ready_with_empty_frames_does_not_hold_the_head() {
        runtime().block_on(async {
            let response = hyper::Response::new(Endless(0).boxed_unsync());
            let mut body = read_ahead(response).await.into_body();
            assert!(!body.is_end_stream());
            for _ in 0..MAX_FRAMES + 1 {
                let frame = body.frame().await.unwrap().unwrap();
                assert!(frame.into_data().unwrap().is_empty());
            }
        });
    }

    /// A body that always has an empty frame ready (and fails the test if
    /// polled without end).
    struct Endless(usize);

    impl Body for Endless {
        type Data = Bytes;
        type Error = wasmtime_wasi_http::Error;

        fn poll_frame(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Polled>> {
            self.0 += 1;
            assert!(self.0 < 10_000, "read_ahead never stopped taking frames");
            Poll::Ready(Some(Ok(Frame::data(Bytes::new()))))
        }
    }

    #[test]
    fn trailers_taken_ahead_are_not_lost() {
        runtime().block_on(async {
            let mut trailers = hyper::HeaderMap::new();
            trailers.insert("x-checksum", hyper::header::HeaderValue::from_static("1"));
            let (sender, response) = fed(vec![
                Ok(Frame::data(Bytes::from_static(b"body"))),
                Ok(Frame::trailers(trailers)),
            ]);
            drop(sender);
            let mut body = read_ahead(response).await.into_body();
            assert_eq!(body.size_hint().exact(), None);
            let data = body.frame().await.unwrap().unwrap();
            assert_eq!(data.into_data().unwrap(), "body");
            assert!(!body.is_end_stream());
            let trailers = body.frame().await.unwrap().unwrap();
            assert_eq!(trailers.trailers_ref().unwrap()["x-checksum"], "1");
            assert!(body.is_end_stream());
            assert!(body.frame().await.is_none());
        });
    }

    #[test]
    fn a_declared_length_stays_the_app_s() {
        runtime().block_on(async {
            let (sender, response) = fed(vec![Ok(Frame::data(Bytes::from_static(b"0123")))]);
            drop(sender);
            // The app declared 10 bytes and wrote 4: the size stays 10, so
            // hyper sees the body end short and closes the connection
            // instead of framing the next response inside this one.
            let body = Declared {
                inner: response.into_body(),
                left: 10,
            };
            let body = read_ahead(hyper::Response::new(body.boxed_unsync()))
                .await
                .into_body();
            assert_eq!(body.size_hint().exact(), Some(10));
        });
    }

    /// A body that declares a length and counts it down as frames go.
    struct Declared {
        inner: ResponseBody,
        left: u64,
    }

    impl Body for Declared {
        type Data = Bytes;
        type Error = wasmtime_wasi_http::Error;

        fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Polled>> {
            let polled = Pin::new(&mut self.inner).poll_frame(cx);
            if let Poll::Ready(Some(Ok(frame))) = &polled
                && let Some(data) = frame.data_ref()
            {
                self.left = self.left.saturating_sub(data.len() as u64);
            }
            polled
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.left)
        }
    }

    #[test]
    fn an_error_in_the_body_is_kept_in_its_place() {
        runtime().block_on(async {
            let frames: Vec<Polled> = vec![
                Ok(Frame::data(Bytes::from_static(b"part"))),
                Err(wasmtime_wasi_http::Error::InternalError(Some(
                    "broken".into(),
                ))),
            ];
            let (_sender, response) = fed(frames);
            let mut body = read_ahead(response).await.into_body();
            let first = body.frame().await.unwrap().unwrap();
            assert_eq!(first.into_data().unwrap(), "part");
            assert!(body.frame().await.unwrap().is_err());
        });
    }
}
