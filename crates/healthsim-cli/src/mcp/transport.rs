//! The stdio transport of `healthsim mcp`: one JSON-RPC message per line in, one per line out.
//!
//! rmcp's own stdio transport drops a line it cannot decode, so a client that sent a broken
//! message waits for an answer that never comes. JSON-RPC 2.0 asks for one: this transport
//! answers a line that is not JSON with a parse error (-32700, no id) and a JSON message with an
//! id that is not a valid request with an invalid-request error (-32600, that id). A line
//! without an id (a notification, valid or not) gets no answer, as JSON-RPC requires. Every
//! outgoing message, the server's and these errors, goes through one writer task, so lines never
//! interleave.
//!
//! It also answers what rmcp would answer wrongly or not at all:
//! - a JSON-RPC batch (an array): MCP 2025-06-18 removed batching, so in a session of a later
//!   version one invalid-request error (-32600, id null) answers the whole array; in a session
//!   that negotiated 2025-03-26 (which has batches) each element is handled as a message of its
//!   own and answered on its own line. Either way the client is never left waiting;
//! - `tools/call` without `params`: an invalid-params error (-32602), not "method not found";
//! - before `initialize`, a message that is not a request (a notification, a response) is
//!   dropped: rmcp would end the session on it. Requests before `initialize` reach rmcp, which
//!   answers them with an error and keeps waiting for `initialize`.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{Sink, Stream};
use rmcp::model::{ClientRequest, ErrorCode, ErrorData, JsonRpcMessage, NumberOrString};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::RoleServer;
use serde_json::Value as Json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

type Outgoing = TxJsonRpcMessage<RoleServer>;
type Incoming = RxJsonRpcMessage<RoleServer>;

/// The transport's halves and its writer task, which ends after both halves are dropped and
/// every message is written (await it before the process exits).
pub(crate) struct LineTransport<Si, St> {
    pub(crate) sink: Si,
    pub(crate) stream: St,
    pub(crate) writer: JoinHandle<io::Result<()>>,
}

/// A line transport over `input` and `output` (stdin and stdout for the server).
pub(crate) fn line_transport(
    input: impl AsyncBufRead + Send + Unpin + 'static,
    output: impl AsyncWrite + Send + Unpin + 'static,
) -> LineTransport<
    impl Sink<Outgoing, Error = io::Error> + Send + Unpin + 'static,
    impl Stream<Item = Incoming> + Send + Unpin + 'static,
> {
    let (sender, receiver) = mpsc::unbounded_channel::<Outgoing>();
    let batches = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_lines(receiver, output, batches.clone()));
    let sink = Box::pin(futures::sink::unfold(
        sender.clone(),
        |sender, message: Outgoing| async move {
            sender
                .send(message)
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the writer has stopped"))?;
            Ok::<_, io::Error>(sender)
        },
    ));
    let reader = Reader {
        replies: sender,
        initialized: false,
        batches,
        pending: VecDeque::new(),
    };
    let stream = Box::pin(futures::stream::unfold(
        (input, reader),
        |(mut input, mut reader)| async move {
            let message = reader.next_message(&mut input).await?;
            reader.initialized |= is_initialize(&message);
            Some((message, (input, reader)))
        },
    ));
    LineTransport {
        sink,
        stream,
        writer,
    }
}

/// Writes each message as one line, flushed, until every sender is gone. Sets `batches` when
/// the initialize result it writes negotiated 2025-03-26, the last version with batches.
async fn write_lines(
    mut receiver: mpsc::UnboundedReceiver<Outgoing>,
    mut output: impl AsyncWrite + Unpin,
    batches: Arc<AtomicBool>,
) -> io::Result<()> {
    let mut initialized = false;
    while let Some(message) = receiver.recv().await {
        let mut line = serde_json::to_vec(&message).map_err(io::Error::other)?;
        if !initialized && contains(&line, b"\"serverInfo\"") {
            initialized = true;
            if contains(&line, b"\"protocolVersion\":\"2025-03-26\"") {
                batches.store(true, Ordering::SeqCst);
            }
        }
        line.push(b'\n');
        output.write_all(&line).await?;
        output.flush().await?;
    }
    Ok(())
}

/// Whether `message` is the `initialize` request.
fn is_initialize(message: &Incoming) -> bool {
    matches!(message, JsonRpcMessage::Request(r) if matches!(r.request, ClientRequest::InitializeRequest(_)))
}

/// The reading side's state: where to send its own answers, whether `initialize` went
/// through, whether the session takes batches, and the elements of a batch not yet handed on.
struct Reader {
    replies: mpsc::UnboundedSender<Outgoing>,
    initialized: bool,
    batches: Arc<AtomicBool>,
    pending: VecDeque<Incoming>,
}

impl Reader {
    /// Reads lines until one decodes as a message for rmcp (answering the broken ones on the
    /// way, and before `initialize` dropping what is not a request); `None` at the end of the
    /// input or when it cannot be read.
    async fn next_message(&mut self, input: &mut (impl AsyncBufRead + Unpin)) -> Option<Incoming> {
        let mut line = Vec::new();
        loop {
            if let Some(message) = self.pending.pop_front() {
                return Some(message);
            }
            line.clear();
            if input.read_until(b'\n', &mut line).await.ok()? == 0 {
                return None;
            }
            let text = trim_line(&line);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if self.batches.load(Ordering::SeqCst) && text.trim_ascii_start().starts_with(b"[") {
                self.split_batch(text);
                continue;
            }
            self.take(decode(text));
        }
    }

    /// A decoded line: a message queued for rmcp, or its answer sent.
    fn take(&mut self, decoded: Result<Incoming, Option<Box<Outgoing>>>) {
        match decoded {
            Ok(message) if self.initialized || matches!(message, JsonRpcMessage::Request(_)) => {
                self.pending.push_back(message);
            }
            Ok(_) => {} // a notification or response before initialize: nothing to answer
            Err(Some(reply)) => {
                // The writer is gone only when the session is over; nothing left to tell.
                let _ = self.replies.send(*reply);
            }
            Err(None) => {}
        }
    }

    /// A batch in a 2025-03-26 session: each element as a message of its own (an empty or
    /// unreadable batch gets the error a broken line gets).
    fn split_batch(&mut self, text: &[u8]) {
        match serde_json::from_slice::<Vec<Json>>(text) {
            Ok(elements) if !elements.is_empty() => {
                for element in elements {
                    let bytes = serde_json::to_vec(&element).unwrap_or_default();
                    let decoded = decode(&bytes);
                    self.take(decoded);
                }
            }
            Ok(_) => {
                let _ = self.replies.send(JsonRpcMessage::error(
                    ErrorData::new(
                        ErrorCode::INVALID_REQUEST,
                        "invalid request: an empty batch",
                        None,
                    ),
                    None,
                ));
            }
            Err(_) => {
                let decoded = decode(text);
                self.take(decoded);
            }
        }
    }
}

/// The line without its line ending and a leading byte-order mark.
fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

/// A message, or the error to answer a broken line with (`None`: say nothing).
fn decode(line: &[u8]) -> Result<Incoming, Option<Box<Outgoing>>> {
    let error = match serde_json::from_slice::<Incoming>(line) {
        Ok(message) => {
            // rmcp reads a `tools/call` without params as an unknown method.
            if contains(line, b"\"tools/call\"") {
                if let Some(reply) = tool_call_without_params(line) {
                    return Err(Some(reply));
                }
            }
            return Ok(message);
        }
        Err(error) => error,
    };
    let value = match serde_json::from_slice::<Json>(line) {
        Ok(value) => value,
        Err(not_json) => {
            let reason = match std::str::from_utf8(line) {
                Ok(_) => not_json.to_string(),
                Err(e) => format!("the message is not UTF-8 text ({e})"),
            };
            return Err(Some(Box::new(JsonRpcMessage::error(
                ErrorData::new(
                    ErrorCode::PARSE_ERROR,
                    format!("parse error: {reason}"),
                    None,
                ),
                None,
            ))));
        }
    };
    if value.is_array() {
        return Err(Some(Box::new(JsonRpcMessage::error(
            ErrorData::new(
                ErrorCode::INVALID_REQUEST,
                "invalid request: JSON-RPC batches are not supported (MCP 2025-06-18 removed \
                 them): send each message on its own line",
                None,
            ),
            None,
        ))));
    }
    let id = match value.get("id") {
        // A notification: JSON-RPC never answers one, even a malformed or unknown one.
        None => return Err(None),
        Some(Json::Number(n)) => n.as_i64().map(NumberOrString::Number),
        Some(Json::String(s)) => Some(NumberOrString::String(s.as_str().into())),
        Some(_) => None,
    };
    Err(Some(Box::new(JsonRpcMessage::error(
        ErrorData::new(
            ErrorCode::INVALID_REQUEST,
            format!("invalid request: {error}"),
            None,
        ),
        id,
    ))))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The id of a message, as JSON-RPC ids go (`None` for a notification or an unusable id).
fn id_of(value: &Json) -> Option<NumberOrString> {
    match value.get("id")? {
        Json::Number(n) => n.as_i64().map(NumberOrString::Number),
        Json::String(s) => Some(NumberOrString::String(s.as_str().into())),
        _ => None,
    }
}

/// The invalid-params error for a `tools/call` request without params (an object with the
/// tool's name); `None` for any other message.
fn tool_call_without_params(line: &[u8]) -> Option<Box<Outgoing>> {
    let value = serde_json::from_slice::<Json>(line).ok()?;
    let is_call = value.get("method").and_then(Json::as_str) == Some("tools/call");
    let has_params = value.get("params").is_some_and(Json::is_object);
    if !is_call || has_params || value.get("id").is_none() {
        return None;
    }
    Some(Box::new(JsonRpcMessage::error(
        ErrorData::new(
            ErrorCode::INVALID_PARAMS,
            "invalid params: tools/call needs params: {\"name\": <tool>, \"arguments\": {...}}",
            None,
        ),
        id_of(&value),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(line: &str) -> Json {
        match decode(line.as_bytes()) {
            Err(Some(reply)) => serde_json::to_value(reply).unwrap_or_default(),
            Err(None) => Json::Null,
            Ok(message) => panic!("{line} decoded: {message:?}"),
        }
    }

    #[test]
    fn broken_lines_get_json_rpc_errors() {
        let not_json = reply("this is not json");
        assert_eq!(not_json["error"]["code"], -32700, "{not_json}");
        assert!(not_json.get("id").is_none(), "{not_json}");
        assert!(not_json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("parse error: expected ident at line 1 column")));

        let not_utf8 = match decode(b"{\"id\": 1, \"x\": \"\xff\"}") {
            Err(Some(reply)) => serde_json::to_value(reply).unwrap_or_default(),
            other => panic!("{other:?}"),
        };
        assert_eq!(not_utf8["error"]["code"], -32700);
        assert!(not_utf8["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not UTF-8")));

        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(reply(&deep)["error"]["code"], -32700);

        let bad_request = reply(r#"{"jsonrpc": "2.0", "id": 7, "method": 12}"#);
        assert_eq!(bad_request["error"]["code"], -32600, "{bad_request}");
        assert_eq!(bad_request["id"], 7);
        let string_id = reply(r#"{"jsonrpc": "2.0", "id": "a", "params": {}}"#);
        assert_eq!(string_id["id"], "a", "{string_id}");
    }

    #[test]
    fn notifications_are_never_answered() {
        assert_eq!(
            reply(r#"{"jsonrpc": "2.0", "method": 12}"#),
            Json::Null,
            "a broken notification gets no reply"
        );
        assert!(decode(br#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#).is_ok());
    }

    #[test]
    fn line_endings_and_byte_order_marks_are_trimmed() {
        assert_eq!(trim_line(b"\xEF\xBB\xBF{}\r\n"), b"{}");
        assert_eq!(trim_line(b"{}"), b"{}");
    }
}
