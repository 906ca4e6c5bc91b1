//! The ready signal: the `READY` line on stdout that WEFT's supervisor waits
//! for, and `READY=1` to `$NOTIFY_SOCKET` for systemd's `Type=notify`.

use std::io::Write;

/// Writes `READY` as one line on stdout and flushes it, so that it reaches
/// the supervisor before anything the app prints.
pub fn print_ready_line() -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(b"READY\n")?;
    stdout.flush()
}

/// Sends `READY=1` to `$NOTIFY_SOCKET` when it is set; does nothing otherwise.
///
/// The socket is a path, or an abstract socket name when it starts with `@`.
pub fn notify_systemd() -> std::io::Result<()> {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(());
    };
    let socket = socket.to_string_lossy().into_owned();
    let sender = std::os::unix::net::UnixDatagram::unbound()?;
    if let Some(name) = socket.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        sender.send_to_addr(b"READY=1", &addr)?;
    } else {
        sender.send_to(b"READY=1", &socket)?;
    }
    Ok(())
}
