//! Calls to identity providers. An organisation's super-admin chooses the issuer and the
//! provider chooses its endpoints, so every call could be aimed at our own network (cloud
//! metadata, the database, an admin port on loopback). The HTTP client therefore resolves names
//! through [`GuardedResolver`], which refuses loopback, private, link-local, shared (CGNAT),
//! unique-local, unspecified, multicast and reserved addresses, IPv4-mapped forms included; the
//! connection goes to exactly the addresses it checked (no second lookup, no rebinding window).
//! Literal IP hosts, which skip the resolver, are checked by [`check_url`]. Redirects are never
//! followed, proxies never used, answers bounded in time and size.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use openidconnect::url::Url;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Largest answer read from a provider (discovery document, signing keys, token answer).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Why a call to a provider was not made or failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The address is not one we call: the issuer or an endpoint points into our own network.
    #[error("refused address: {0}")]
    Refused(String),
    #[error("answer larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("http: {0}")]
    Http(String),
}

/// Whether `ip` is one we never connect to; `allow_loopback` (tests only) lets loopback through.
pub fn is_refused(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refused_v4(v4, allow_loopback);
            }
            if v6.is_loopback() {
                return !allow_loopback;
            }
            let first = v6.segments()[0];
            v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || is_embedded_v4(v6, allow_loopback)
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || first == 0x0100 && v6.segments()[1..4] == [0, 0, 0] // discard-only 100::/64
        }
    }
}

/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses carry
/// an IPv4 address that the network may route to: judge that one.
fn is_embedded_v4(v6: Ipv6Addr, allow_loopback: bool) -> bool {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return refused_v4(v4(s[6], s[7]), allow_loopback);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return refused_v4(v4(s[6], s[7]), allow_loopback);
    }
    if s[0] == 0x2002 {
        return refused_v4(v4(s[1], s[2]), allow_loopback);
    }
    false
}

fn refused_v4(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return !allow_loopback;
    }
    ip.is_unspecified()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (b & 0xc0) == 64) // shared address space (CGNAT) 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

/// A URL we may call: `https` (or `http` when `allow_loopback_http`, tests only), with a host,
/// and, when the host is a literal address (which no resolver sees), an allowed one.
pub fn check_url(url: &Url, allow_loopback_http: bool) -> Result<(), OutboundError> {
    let refused = || OutboundError::Refused(redact(url));
    let scheme_ok = url.scheme() == "https" || (allow_loopback_http && url.scheme() == "http");
    if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
        return Err(refused());
    }
    match url.host() {
        Some(openidconnect::url::Host::Ipv4(ip)) if is_refused(IpAddr::V4(ip), allow_loopback_http) => Err(refused()),
        Some(openidconnect::url::Host::Ipv6(ip)) if is_refused(IpAddr::V6(ip), allow_loopback_http) => Err(refused()),
        Some(_) => Ok(()),
        None => Err(refused()),
    }
}

/// Scheme, host and port only: paths and queries may carry codes or secrets.
fn redact(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
        + &url.port().map(|p| format!(":{p}")).unwrap_or_default()
}

/// Resolves, then keeps the answer only if every address is allowed: a name that resolves to
/// one public and one private address is refused as a whole.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    pub allow_loopback: bool,
}

/// The resolver's refusal, found again in the chain of reqwest's error.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to an address we do not call")]
struct RefusedHost {
    host: String,
}

impl GuardedResolver {
    /// The host's addresses if they are all allowed; `Ok(None)` when it does not resolve.
    pub async fn lookup(&self, host: &str) -> Result<Option<Vec<SocketAddr>>, OutboundError> {
        let Ok(found) = tokio::net::lookup_host((host, 0)).await else { return Ok(None) };
        let addrs: Vec<SocketAddr> = found.collect();
        if addrs.iter().any(|a| is_refused(a.ip(), self.allow_loopback)) {
            return Err(OutboundError::Refused(host.to_owned()));
        }
        Ok(Some(addrs))
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            match resolver.lookup(&host).await {
                Ok(Some(addrs)) if !addrs.is_empty() => {
                    Ok(Box::new(addrs.into_iter()) as Box<dyn Iterator<Item = SocketAddr> + Send>)
                }
                Ok(_) => Err(format!("{host} does not resolve").into()),
                Err(_) => Err(Box::new(RefusedHost { host }) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// The HTTP client of OIDC calls, as openidconnect's [`AsyncHttpClient`].
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
    allow_loopback_http: bool,
}

impl Outbound {
    pub fn new(
        allow_loopback_http: bool,
        connect_timeout: std::time::Duration,
        timeout: std::time::Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_loopback: allow_loopback_http }))
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            // Sign-ins are rare and minutes apart: no idle connection a provider may have dropped.
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Self { client, allow_loopback_http })
    }

    pub fn allows_loopback_http(&self) -> bool {
        self.allow_loopback_http
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        let url = Url::parse(&request.uri().to_string()).map_err(|e| OutboundError::Http(e.to_string()))?;
        check_url(&url, self.allow_loopback_http)?;
        let request: reqwest::Request =
            request.try_into().map_err(|e: reqwest::Error| OutboundError::Http(e.to_string()))?;
        let mut response = self.client.execute(request).await.map_err(|e| classify(&e, &url))?;
        if response.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(OutboundError::TooLarge);
        }
        let mut builder = openidconnect::http::Response::builder().status(response.status().as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, &url))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(OutboundError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|e| OutboundError::Http(e.to_string()))
    }
}

/// A refusal by the resolver stays a refusal; anything else is the provider's failure.
fn classify(err: &reqwest::Error, url: &Url) -> OutboundError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<RefusedHost>().is_some() {
            return OutboundError::Refused(redact(url));
        }
        source = e.source();
    }
    OutboundError::Http(err.to_string())
}

impl<'c> AsyncHttpClient<'c> for Outbound {
    type Error = OutboundError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OutboundError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused() {
        for bad in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "2001:db8::1",
        ] {
            assert!(is_refused(ip(bad), false), "{bad}");
        }
        for good in ["93.184.215.14", "8.8.8.8", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_refused(ip(good), false), "{good}");
        }
        // The tests' allowance opens loopback only.
        assert!(!is_refused(ip("127.0.0.1"), true));
        assert!(!is_refused(ip("::1"), true));
        assert!(is_refused(ip("169.254.169.254"), true));
        assert!(is_refused(ip("10.0.0.1"), true));
    }

    #[test]
    fn urls_need_https_and_an_allowed_literal_host() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(check_url(&url("https://login.example.com/x"), false).is_ok());
        assert!(check_url(&url("http://login.example.com/x"), false).is_err());
        assert!(check_url(&url("https://127.0.0.1:5432/"), false).is_err());
        assert!(check_url(&url("https://[::ffff:a9fe:a9fe]/"), false).is_err());
        assert!(check_url(&url("https://169.254.169.254/latest"), true).is_err());
        assert!(check_url(&url("https://user:pw@login.example.com/"), false).is_err());
        assert!(check_url(&url("http://127.0.0.1:4000/"), true).is_ok());
    }

    #[tokio::test]
    async fn names_resolving_inside_are_refused() {
        let resolver = GuardedResolver { allow_loopback: false };
        assert!(matches!(resolver.lookup("localhost").await, Err(OutboundError::Refused(_))));
        let tests = GuardedResolver { allow_loopback: true };
        assert!(tests.lookup("localhost").await.unwrap().is_some_and(|a| !a.is_empty()));
    }
}
