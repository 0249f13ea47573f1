//! Where passive data ports come from: a configured range, or any free port the OS picks (so
//! parallel tests never collide).

use async_trait::async_trait;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use tokio::net::{TcpListener, TcpSocket};

#[derive(Debug, Clone)]
pub(super) struct PassivePorts {
    pub range: Option<RangeInclusive<u16>>,
}

impl PassivePorts {
    /// A listener on 127.0.0.1 with a port from the range (tried from a random start), or any.
    pub async fn bind_listener(&self) -> io::Result<TcpListener> {
        let Some(range) = self.range.clone() else {
            return TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await;
        };
        let (first, span) = (*range.start() as u32, range.len() as u32);
        let offset = rand::random::<u32>() % span.max(1);
        for step in 0..span {
            let port = (first + (offset + step) % span) as u16;
            if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
                return Ok(listener);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("no free passive port in {range:?}"),
        ))
    }
}

/// libunftp binder that lets the OS choose a free port for each passive data connection.
#[derive(Debug)]
pub(super) struct AnyFreePort;

#[async_trait]
impl libunftp::options::Binder for AnyFreePort {
    async fn bind(
        &mut self,
        local_addr: IpAddr,
        _passive_ports: RangeInclusive<u16>,
    ) -> io::Result<TcpSocket> {
        let socket = match local_addr {
            IpAddr::V4(_) => TcpSocket::new_v4()?,
            IpAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(local_addr, 0))?;
        Ok(socket)
    }
}
