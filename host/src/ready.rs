//! The ready signal and the rest of weft's side of systemd's protocols: the
//! `READY` line on stdout that WEFT's supervisor waits for; messages to
//! `$NOTIFY_SOCKET` for `Type=notify` (`READY=1`, `WATCHDOG=1`,
//! `STOPPING=1`); and the listening socket systemd passes by socket
//! activation (`$LISTEN_FDS`), as `sd_listen_fds` takes it.

use std::io::Write;
use std::time::Duration;

use crate::{Error, Result};

/// Writes `READY` as one line on stdout and flushes it, so that it reaches
/// the supervisor before anything the app prints.
pub fn print_ready_line() -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(b"READY\n")?;
    stdout.flush()
}

/// Sends `READY=1` to `$NOTIFY_SOCKET` when it is set; does nothing otherwise.
pub fn notify_systemd() -> std::io::Result<()> {
    notify("READY=1")
}

/// Sends one state message (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, ...) to
/// `$NOTIFY_SOCKET` when it is set; does nothing otherwise.
///
/// The socket is a path, or an abstract socket name when it starts with `@`.
pub fn notify(state: &str) -> std::io::Result<()> {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(());
    };
    let socket = socket.to_string_lossy().into_owned();
    let sender = std::os::unix::net::UnixDatagram::unbound()?;
    if let Some(name) = socket.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        sender.send_to_addr(state.as_bytes(), &addr)?;
    } else {
        sender.send_to(state.as_bytes(), &socket)?;
    }
    Ok(())
}

/// How often to tell systemd's watchdog that weft is alive: half of
/// `$WATCHDOG_USEC`, when it is set for this process (`$WATCHDOG_PID` unset
/// or weft's own) and `$NOTIFY_SOCKET` is set; `None` otherwise.
pub fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    watchdog_interval_from(|name| std::env::var(name).ok(), std::process::id())
}

fn watchdog_interval_from(var: impl Fn(&str) -> Option<String>, pid: u32) -> Option<Duration> {
    if let Some(owner) = var("WATCHDOG_PID")
        && owner.trim().parse::<u32>().ok() != Some(pid)
    {
        return None;
    }
    let usec: u64 = var("WATCHDOG_USEC")?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: i32 = 3;

/// The listening socket systemd passed to this process by socket
/// activation: `None` unless `$LISTEN_PID` is this process and
/// `$LISTEN_FDS` is set and not 0, as `sd_listen_fds` decides. weft serves
/// one socket, so more than one is an error, and so is a socket that is
/// not a listening TCP socket; each error is one sentence on what to change
/// in the `.socket` unit. The socket is marked close-on-exec once taken.
pub fn listen_fds() -> Result<Option<std::net::TcpListener>> {
    let var = |name: &str| std::env::var(name).ok();
    let Some(count) = passed_sockets(var, std::process::id())? else {
        return Ok(None);
    };
    if count != 1 {
        return Err(Error::usage(format!(
            "systemd passed {count} sockets (LISTEN_FDS={count}), and weft serve listens on one; give its .socket unit a single ListenStream="
        )));
    }
    take_tcp_listener(LISTEN_FDS_START).map(Some)
}

/// `$LISTEN_FDS` when `$LISTEN_PID` is `pid`.
fn passed_sockets(var: impl Fn(&str) -> Option<String>, pid: u32) -> Result<Option<u32>> {
    let Some(owner) = var("LISTEN_PID") else {
        return Ok(None);
    };
    if owner.trim().parse::<u32>().ok() != Some(pid) {
        tracing::debug!("LISTEN_PID={owner} is another process; not taking its sockets");
        return Ok(None);
    }
    let Some(count) = var("LISTEN_FDS") else {
        return Ok(None);
    };
    match count.trim().parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(count) => Ok(Some(count)),
        Err(_) => Err(Error::usage(format!(
            "LISTEN_FDS={count} is not a number of sockets; it is set by systemd's socket activation, so unset it when weft is not started by a .socket unit"
        ))),
    }
}

/// Takes descriptor `fd` as a listening TCP socket, after checking it is one.
fn take_tcp_listener(fd: i32) -> Result<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    let int_option = |level: i32, option: i32| -> std::io::Result<i32> {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `value`.
        let rc =
            unsafe { libc::getsockopt(fd, level, option, (&raw mut value).cast(), &raw mut len) };
        if rc == 0 {
            Ok(value)
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    let not_tcp = |what: String| {
        Error::usage(format!(
            "the socket systemd passed (descriptor {fd}) {what}, and weft serve takes a listening TCP socket; set ListenStream= in its .socket unit to a port or an address like 127.0.0.1:8080"
        ))
    };
    let domain = int_option(libc::SOL_SOCKET, libc::SO_DOMAIN)
        .map_err(|err| not_tcp(format!("cannot be read as a socket ({err})")))?;
    if domain != libc::AF_INET && domain != libc::AF_INET6 {
        return Err(not_tcp(if domain == libc::AF_UNIX {
            "is a Unix socket".to_string()
        } else {
            format!("is of address family {domain}")
        }));
    }
    let kind = int_option(libc::SOL_SOCKET, libc::SO_TYPE)
        .map_err(|err| not_tcp(format!("cannot be read as a socket ({err})")))?;
    if kind != libc::SOCK_STREAM {
        return Err(not_tcp(
            "is not a stream socket (ListenDatagram=?)".to_string(),
        ));
    }
    let listening = int_option(libc::SOL_SOCKET, libc::SO_ACCEPTCONN)
        .map_err(|err| not_tcp(format!("cannot be read as a socket ({err})")))?;
    if listening == 0 {
        return Err(not_tcp("is not listening (Accept=yes?)".to_string()));
    }
    // SAFETY: the descriptor is open (getsockopt answered for it), is a
    // listening TCP socket, and systemd passed it to this process to own.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    // SAFETY: plain fcntl calls on a descriptor this process owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
    listener
        .set_nonblocking(true)
        .map_err(|err| Error::internal("cannot use the socket systemd passed").caused_by(&err))?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn sockets_are_taken_only_when_listen_pid_is_this_process() {
        let pid = 4242;
        assert_eq!(passed_sockets(vars(&[]), pid).unwrap(), None);
        let other = [("LISTEN_PID", "1"), ("LISTEN_FDS", "1")];
        assert_eq!(passed_sockets(vars(&other), pid).unwrap(), None);
        let ours = [("LISTEN_PID", "4242"), ("LISTEN_FDS", "2")];
        assert_eq!(passed_sockets(vars(&ours), pid).unwrap(), Some(2));
        let none = [("LISTEN_PID", "4242"), ("LISTEN_FDS", "0")];
        assert_eq!(passed_sockets(vars(&none), pid).unwrap(), None);
        let bad = [("LISTEN_PID", "4242"), ("LISTEN_FDS", "two")];
        let err = passed_sockets(vars(&bad), pid).unwrap_err().to_string();
        assert!(err.contains("LISTEN_FDS=two is not a number"), "{err}");
    }

    #[test]
    fn the_watchdog_is_pinged_at_half_its_timeout_for_this_process_only() {
        let pid = 7;
        let set = [("WATCHDOG_USEC", "30000000")];
        assert_eq!(
            watchdog_interval_from(vars(&set), pid),
            Some(Duration::from_secs(15))
        );
        let ours = [("WATCHDOG_USEC", "200000"), ("WATCHDOG_PID", "7")];
        assert_eq!(
            watchdog_interval_from(vars(&ours), pid),
            Some(Duration::from_millis(100))
        );
        let other = [("WATCHDOG_USEC", "200000"), ("WATCHDOG_PID", "8")];
        assert_eq!(watchdog_interval_from(vars(&other), pid), None);
        assert_eq!(
            watchdog_interval_from(vars(&[("WATCHDOG_USEC", "0")]), pid),
            None
        );
        assert_eq!(watchdog_interval_from(vars(&[]), pid), None);
    }

    #[test]
    fn a_descriptor_that_is_not_a_listening_tcp_socket_is_refused() {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open("/dev/null").unwrap();
        let err = take_tcp_listener(file.as_raw_fd()).unwrap_err().to_string();
        assert!(err.contains("cannot be read as a socket"), "{err}");
        let unix = std::os::unix::net::UnixDatagram::unbound().unwrap();
        let err = take_tcp_listener(unix.as_raw_fd()).unwrap_err().to_string();
        assert!(err.contains("is a Unix socket"), "{err}");
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = take_tcp_listener(udp.as_raw_fd()).unwrap_err().to_string();
        assert!(err.contains("not a stream socket"), "{err}");
    }
}
