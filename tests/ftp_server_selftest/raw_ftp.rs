//! A bare FTP control connection, for what curl cannot show (curl closes its connection after
//! a failed transfer).

use crate::support::ftp_server::FtpServer;

pub struct RawFtp {
    reader: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl RawFtp {
    pub async fn login(server: &FtpServer) -> RawFtp {
        let (read, writer) = tokio::net::TcpStream::connect(server.addr())
            .await
            .unwrap()
            .into_split();
        let mut ftp = RawFtp {
            reader: tokio::io::BufReader::new(read),
            writer,
        };
        assert!(ftp.reply().await.unwrap().starts_with("220"));
        ftp.command(&format!("USER {}", server.user())).await;
        let pass = ftp
            .command(&format!("PASS {}", server.password()))
            .await
            .unwrap();
        assert!(pass.starts_with("230"), "{pass}");
        ftp
    }

    /// The next reply's last line, or `None` once the server has closed the connection.
    pub async fn reply(&mut self) -> Option<String> {
        use tokio::io::AsyncBufReadExt;
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                self.reader.read_line(&mut line),
            );
            if read.await.expect("reply within 5 s").unwrap_or(0) == 0 {
                return None;
            }
            if line.as_bytes().get(3) == Some(&b' ') {
                return Some(line.trim_end().to_string());
            }
        }
    }

    pub async fn command(&mut self, line: &str) -> Option<String> {
        use tokio::io::AsyncWriteExt;
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .ok()?;
        self.reply().await
    }

    /// Runs `RETR path` over EPSV and returns the bytes received.
    pub async fn retr(&mut self, path: &str) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let epsv = self.command("EPSV").await.unwrap();
        let port: u16 = epsv
            .split("|||")
            .nth(1)
            .unwrap()
            .trim_end_matches(['|', ')'])
            .parse()
            .unwrap();
        let mut data = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let start = self.command(&format!("RETR {path}")).await.unwrap();
        assert!(start.starts_with("150"), "{start}");
        let mut bytes = Vec::new();
        let _ = data.read_to_end(&mut bytes).await;
        bytes
    }
}
