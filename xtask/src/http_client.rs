//! A minimal blocking HTTP/1.1 client for the tests: one request per
//! connection, `content-length` bodies out, chunked or plain bodies back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status, lowercased head, and the (de-chunked) body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// Sends one request to `address` (`ip:port`) and reads the whole response.
pub fn request(address: &str, method: &str, path: &str, body: &[u8]) -> Result<Response, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| format!("connecting: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    send_head(&mut stream, address, method, path, body.len())?;
    stream
        .write_all(body)
        .map_err(|e| format!("sending the body: {e}"))?;
    read_response(stream)
}

/// Writes a request head announcing `length` body bytes.
pub fn send_head(
    stream: &mut TcpStream,
    address: &str,
    method: &str,
    path: &str,
    length: usize,
) -> Result<(), String> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("sending: {e}"))
}

/// Reads a whole response until the server closes the connection.
pub fn read_response(mut stream: TcpStream) -> Result<Response, String> {
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no complete response head")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status code")?;
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    }
    Ok(Response { status, head, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .ok_or("bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("truncated chunk".to_string());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
