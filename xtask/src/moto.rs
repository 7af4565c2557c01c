//! moto's S3 server on a loopback port, stopped when the guard drops.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::venv;

/// The secret tests use against moto, which checks no signature: a canary
/// unlike the key id `testing`, so a leaked secret is visible in any output.
pub const SECRET: &str = "moto-canary-secret-7f3a";

/// A running moto server.
pub struct MotoServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl MotoServer {
    /// Installs moto if needed and starts it on a free loopback port.
    pub fn start() -> Result<Self> {
        let venv = venv::ensure(&[venv::MOTO])?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start moto_server from target/ci-venv")?;
        let mut server = Self { child, addr };
        server.wait_ready()?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto_server exited during start-up with {status}");
            }
            if let Ok(mut stream) =
                TcpStream::connect_timeout(&self.addr, Duration::from_millis(200))
            {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let request = format!(
                    "GET /moto-api/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.addr
                );
                let mut head = [0u8; 12];
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_exact(&mut head).is_ok()
                    && head.starts_with(b"HTTP/1.")
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("moto_server did not answer on {} within 60s", self.addr)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo xtask moto`: run moto until interrupted.
pub fn serve_forever() -> Result<()> {
    let server = MotoServer::start()?;
    println!("moto's S3 server is listening. To run tests against it:\n");
    println!("  export S3SQL_MOTO_ENDPOINT={}", server.endpoint());
    println!(
        "  export S3SQL_TEST_ENDPOINT={} S3SQL_TEST_KEY_ID=testing S3SQL_TEST_SECRET={SECRET} S3SQL_TEST_REGION=us-east-1",
        server.endpoint()
    );
    println!("\nCtrl-C stops it.");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
