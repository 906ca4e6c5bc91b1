//! `wasi:http` (outbound): the request and response types and the
//! outgoing handler. Every outgoing request is checked against the
//! manifest's `allowed_hosts` ([`OutboundPolicy`], the instance's
//! `wasi:http` hooks); `weft serve` ([`crate::serve`]) is the inbound side.
//!
//! | WASI | interfaces                      |
//! |------|---------------------------------|
//! | 0.2  | `types`, `outgoing-handler`     |
//! | 0.3  | `types`, `client`               |
//!
//! Manifest: `[runtime.http]` ([`AllowedHost::parse`], [`HttpSettings`]).
//!
//! An `allowed_hosts` entry is `scheme://host[:port]`:
//! - `scheme` is `http` or `https`;
//! - `host` is a DNS name or an IP address (IPv6 in brackets), matched exactly
//!   (case-insensitively), or `*.example.com`, which matches any name that
//!   ends in `.example.com` (not `example.com` itself), or `*` for any host;
//! - `port` is a number or `*`; without one, the scheme's default (80, 443).
//!
//! No entry means no outbound HTTP. A host is matched as the request names
//! it: allowing `http://localhost:8080` does not allow `http://127.0.0.1:8080`,
//! nor `127.0.0.1` written as `2130706433`, `0x7f000001`, `127.1` or
//! `[::ffff:127.0.0.1]` (spellings the resolver would accept). A request
//! whose authority has a user part (`user@host`) is always denied: the part
//! before `@` is not where it connects, and the allow-list names no users.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::{LinkOptions, http as wasi_http};
use wasmtime_wasi_http::p3::bindings::http as wasi_http3;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttp, WasiHttpHooks, WasiHttpView};

wasi_interfaces! {
    p2 for <T: WasiHttpView>, l;
    "wasi:http/types" => {
        let options = LinkOptions::default();
        wasi_http::types::add_to_linker::<T, WasiHttp>(l, &(&options).into(), T::http)
    },
    "wasi:http/outgoing-handler" => {
        wasi_http::outgoing_handler::add_to_linker::<T, WasiHttp>(l, T::http)
    },
}

wasi_interfaces! {
    p3 for <T: WasiHttpView>, l;
    "wasi:http/types" => wasi_http3::types::add_to_linker::<T, WasiHttp>(l, T::http),
    "wasi:http/client" => wasi_http3::client::add_to_linker::<T, WasiHttp>(l, T::http),
}

/// One `allowed_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    pub https: bool,
    pub host: HostPattern,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Any host.
    Any,
    /// This host, lowercased.
    Exact(String),
    /// Any host ending in `.suffix` (the suffix is stored with its dot).
    Subdomains(String),
}

impl AllowedHost {
    /// Parses an entry, or says why it is not one.
    pub fn parse(entry: &str) -> Result<AllowedHost, String> {
        let example = "like \"https://api.example.com\", \"http://127.0.0.1:8080\", \"https://*.example.com\" or \"http://localhost:*\"";
        let (scheme, rest) = entry.split_once("://").ok_or_else(|| {
            format!("\"{entry}\" has no scheme; write scheme://host[:port], {example}")
        })?;
        let https = match scheme {
            "https" => true,
            "http" => false,
            other => {
                return Err(format!(
                    "\"{entry}\": scheme \"{other}\" is not http or https; write scheme://host[:port], {example}"
                ));
            }
        };
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "\"{entry}\" has a path, query or user part; an entry names only scheme://host[:port], {example}"
            ));
        }
        let (host, port) = split_host_port(rest)
            .ok_or_else(|| format!("\"{entry}\" has a malformed host or port; {example}"))?;
        let port =
            match port {
                None => Some(if https { 443 } else { 80 }),
                Some("*") => None,
                Some(digits) => Some(digits.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(
                    || format!("\"{entry}\": port \"{digits}\" is not 1-65535 or *"),
                )?),
            };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            if !valid_name(suffix) {
                return Err(format!("\"{entry}\": \"{suffix}\" is not a host name"));
            }
            HostPattern::Subdomains(format!(".{suffix}"))
        } else if host.contains('*') {
            return Err(format!(
                "\"{entry}\": a wildcard may only be the whole host (*) or its first label (*.example.com)"
            ));
        } else if valid_name(&host) || host.parse::<std::net::IpAddr>().is_ok() {
            HostPattern::Exact(host)
        } else {
            return Err(format!(
                "\"{entry}\": \"{host}\" is not a host name or IP address"
            ));
        };
        Ok(AllowedHost { https, host, port })
    }

    fn allows(&self, https: bool, host: &str, port: u16) -> bool {
        self.https == https
            && self.port.is_none_or(|p| p == port)
            && match &self.host {
                HostPattern::Any => true,
                HostPattern::Exact(exact) => exact == host,
                HostPattern::Subdomains(suffix) => {
                    host.len() > suffix.len() && host.ends_with(suffix.as_str())
                }
            }
    }
}

/// `host` and an optional port from `host[:port]` or `[v6][:port]`.
fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return match after {
            "" => Some((host, None)),
            port => Some((host, Some(port.strip_prefix(':')?))),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host, Some(port))),
        Some(_) => None,
        None if text.is_empty() => None,
        None => Some((text, None)),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `[runtime.http]`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSettings {
    pub allowed_hosts: Vec<AllowedHost>,
    /// As written, for messages.
    pub allowed_hosts_text: Vec<String>,
    pub connect_timeout: Option<Duration>,
    pub first_byte_timeout: Option<Duration>,
}

/// The policy one instance's outgoing requests are checked against.
#[derive(Clone)]
pub struct OutboundPolicy {
    settings: Arc<HttpSettings>,
    manifest: Arc<PathBuf>,
}

/// Why a request was refused, and the entry that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub url: String,
    pub entry: Option<String>,
}

impl OutboundPolicy {
    pub fn new(settings: HttpSettings, manifest: PathBuf) -> Self {
        OutboundPolicy {
            settings: Arc::new(settings),
            manifest: Arc::new(manifest),
        }
    }

    /// Checks a request's URI; `Err` carries what to tell the operator.
    pub fn check(&self, uri: &http::Uri) -> Result<(), Denial> {
        let url = uri.to_string();
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(Denial { url, entry: None }),
        };
        let Some(host) = uri.host() else {
            return Err(Denial { url, entry: None });
        };
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(Denial { url, entry: None });
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        if self
            .settings
            .allowed_hosts
            .iter()
            .any(|allowed| allowed.allows(https, &host, port))
        {
            return Ok(());
        }
        let scheme = if https { "https" } else { "http" };
        let shown_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Err(Denial {
            url,
            entry: Some(format!("{scheme}://{shown_host}:{port}")),
        })
    }

    fn denial_message(&self, denial: &Denial) -> String {
        let listed = if self.settings.allowed_hosts_text.is_empty() {
            "the app's manifest allows no outbound HTTP".to_string()
        } else {
            format!(
                "it is not in allowed_hosts ({})",
                self.settings.allowed_hosts_text.join(", ")
            )
        };
        match &denial.entry {
            Some(entry) => format!(
                "weft: denied an outbound HTTP request to {}: {listed}; to allow it, add \"{entry}\" to `allowed_hosts` under [runtime.http] in {}",
                denial.url,
                self.manifest.display()
            ),
            None => format!(
                "weft: denied an outbound HTTP request to {}: only http and https URLs with a host and no user part (user@) can be allowed",
                denial.url
            ),
        }
    }

    /// The request's options with the manifest's timeouts as upper bounds.
    fn bounded(&self, options: Option<RequestOptions>) -> Option<RequestOptions> {
        let min = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut options = options.unwrap_or_default();
        options.connect_timeout = min(options.connect_timeout, self.settings.connect_timeout);
        options.first_byte_timeout =
            min(options.first_byte_timeout, self.settings.first_byte_timeout);
        Some(options)
    }
}

impl fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundPolicy")
            .field("allowed_hosts", &self.settings.allowed_hosts_text)
            .finish()
    }
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        if let Err(denial) = self.check(request.uri()) {
            eprintln!("{}", self.denial_message(&denial));
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let options = self.bounded(options);
        wasmtime_wasi_http::default_hooks().send_request(request, options, fut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        let settings = HttpSettings {
            allowed_hosts: entries
                .iter()
                .map(|e| AllowedHost::parse(e).unwrap())
                .collect(),
            allowed_hosts_text: entries.iter().map(|e| e.to_string()).collect(),
            ..HttpSettings::default()
        };
        OutboundPolicy::new(settings, PathBuf::from("app/wapp.toml"))
    }

    fn allowed(policy: &OutboundPolicy, url: &str) -> bool {
        policy.check(&url.parse().unwrap()).is_ok()
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        let p = policy(&[]);
        assert!(!allowed(&p, "http://127.0.0.1/"));
        assert!(!allowed(&p, "https://example.com/"));
    }

    #[test]
    fn exact_entries_match_scheme_host_and_port() {
        let p = policy(&["https://api.example.com", "http://127.0.0.1:8080"]);
        assert!(allowed(&p, "https://api.example.com/v1"));
        assert!(allowed(&p, "https://API.example.com:443/"));
        assert!(allowed(&p, "https://api.example.com./x"));
        assert!(!allowed(&p, "http://api.example.com/"), "wrong scheme");
        assert!(!allowed(&p, "https://api.example.com:8443/"), "wrong port");
        assert!(!allowed(&p, "https://evil.example.com/"), "wrong host");
        assert!(allowed(&p, "http://127.0.0.1:8080/"));
        assert!(!allowed(&p, "http://127.0.0.1:8081/"));
        assert!(
            !allowed(&p, "http://localhost:8080/"),
            "names are not resolved"
        );
        assert!(
            !allowed(&p, "http://2130706433:8080/"),
            "other IP forms do not match"
        );
    }

    #[test]
    fn wildcards() {
        let p = policy(&[
            "https://*.example.com",
            "http://localhost:*",
            "http://[::1]:*",
        ]);
        assert!(allowed(&p, "https://a.example.com/"));
        assert!(allowed(&p, "https://a.b.example.com/"));
        assert!(!allowed(&p, "https://example.com/"));
        assert!(!allowed(&p, "https://badexample.com/"));
        assert!(allowed(&p, "http://localhost:1/"));
        assert!(allowed(&p, "http://localhost/"));
        assert!(allowed(&p, "http://[::1]:9000/"));
        let any = policy(&["https://*:*"]);
        assert!(allowed(&any, "https://anything.test:1234/"));
        assert!(!allowed(&any, "http://anything.test/"));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "api.example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://user@example.com",
            "https://exa*mple.com",
            "https://example.com:0",
            "https://example.com:99999",
            "https://example.com:x",
            "https://",
            "https://[zz]:1",
            "https://a..b",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_spellings_of_an_address_are_not_the_allowed_host() {
        let p = policy(&["http://localhost:8080"]);
        assert!(allowed(&p, "http://localhost:8080/"));
        assert!(allowed(&p, "http://LOCALHOST.:8080/"));
        for url in [
            "http://127.0.0.1:8080/",
            "http://2130706433:8080/",
            "http://0x7f000001:8080/",
            "http://0177.0.0.1:8080/",
            "http://127.1:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://[::1]:8080/",
        ] {
            assert!(!allowed(&p, url), "{url}");
        }
    }

    #[test]
    fn a_user_part_is_always_denied() {
        let p = policy(&["http://*:*"]);
        assert!(allowed(&p, "http://127.0.0.1:8080/"));
        let denial = p
            .check(&"http://127.0.0.1:9090@127.0.0.1:8080/".parse().unwrap())
            .unwrap_err();
        assert_eq!(denial.entry, None);
        assert!(p.denial_message(&denial).contains("no user part"));
        assert!(!allowed(&p, "http://user@127.0.0.1:8080/"));
    }

    #[test]
    fn denial_names_the_entry_to_add() {
        let p = policy(&["http://127.0.0.1:8080"]);
        let denial = p
            .check(&"http://127.0.0.1:9090/x".parse().unwrap())
            .unwrap_err();
        assert_eq!(denial.entry.as_deref(), Some("http://127.0.0.1:9090"));
        let message = p.denial_message(&denial);
        assert!(message.contains("add \"http://127.0.0.1:9090\" to `allowed_hosts` under [runtime.http] in app/wapp.toml"), "{message}");
    }

    #[test]
    fn manifest_timeouts_bound_the_guest_s() {
        let settings = HttpSettings {
            connect_timeout: Some(Duration::from_secs(2)),
            ..HttpSettings::default()
        };
        let p = OutboundPolicy::new(settings, PathBuf::new());
        let guest = RequestOptions {
            connect_timeout: Some(Duration::from_secs(10)),
            first_byte_timeout: Some(Duration::from_secs(1)),
            between_bytes_timeout: None,
        };
        let bounded = p.bounded(Some(guest)).unwrap();
        assert_eq!(bounded.connect_timeout, Some(Duration::from_secs(2)));
        assert_eq!(bounded.first_byte_timeout, Some(Duration::from_secs(1)));
    }
}
