//! A plain SMTP client (RFC 5321) that speaks to a server as another mail server would: for
//! the tests and the mail benchmark, which need the exact bytes sent and the server's answer
//! to each step, not a mail library's idea of a message.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// One SMTP session; several messages may go through it.
pub struct SmtpSession {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl SmtpSession {
    /// Connects and greets (EHLO).
    pub async fn connect(addr: std::net::SocketAddr) -> std::io::Result<SmtpSession> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        let mut session = SmtpSession {
            reader: BufReader::new(read),
            writer,
        };
        session.reply().await?;
        session.command("EHLO client.example").await?;
        Ok(session)
    }

    /// The server's next reply, all its lines.
    async fn reply(&mut self) -> std::io::Result<String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server hung up",
                ));
            }
            all.push_str(&line);
            // A multi-line reply goes on while the fourth character is '-'.
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return Ok(all);
            }
        }
    }

    async fn command(&mut self, text: &str) -> std::io::Result<String> {
        self.writer
            .write_all(format!("{text}\r\n").as_bytes())
            .await?;
        self.reply().await
    }

    /// Sends one message; returns the reply to its end of DATA (`250 ...` when taken), or
    /// the first refusal of the envelope.
    pub async fn send(&mut self, from: &str, to: &[&str], raw: &[u8]) -> std::io::Result<String> {
        let r = self.command(&format!("MAIL FROM:<{from}>")).await?;
        if !r.starts_with("250") {
            return Ok(r);
        }
        for rcpt in to {
            let r = self.command(&format!("RCPT TO:<{rcpt}>")).await?;
            if !r.starts_with("250") {
                self.command("RSET").await?;
                return Ok(r);
            }
        }
        let r = self.command("DATA").await?;
        if !r.starts_with("354") {
            return Ok(r);
        }
        // Dot-stuffing, and CRLF line ends as SMTP requires.
        let mut data = Vec::with_capacity(raw.len() + raw.len() / 50 + 8);
        for line in raw.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.first() == Some(&b'.') {
                data.push(b'.');
            }
            data.extend_from_slice(line);
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.writer.write_all(&data).await?;
        self.reply().await
    }

    pub async fn quit(mut self) -> std::io::Result<()> {
        self.command("QUIT").await.map(|_| ())
    }
}
