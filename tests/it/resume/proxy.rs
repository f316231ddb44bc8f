//! A TCP proxy between the connector and the database that can cut a
//! connection at an exact point of the stream: after it has forwarded a
//! given number of bytes towards the client. The client then reads exactly
//! that much and meets the end of the connection, wherever the server was
//! (a server-side KILL cannot do that: the kernel buffers between server and
//! client hold megabytes the client still reads after the KILL).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    /// Bytes still to forward towards a client before cutting it; `None`: off.
    armed: Arc<Mutex<Option<usize>>>,
    cuts: Arc<AtomicUsize>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let armed = Arc::new(Mutex::new(None));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (a, c) = (armed.clone(), cuts.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                tokio::spawn(pipe(client, server, a.clone(), c.clone()));
            }
        });
        Proxy { port, armed, cuts, accept }
    }

    /// Cuts the connection that forwards the next `bytes` bytes to its client.
    pub fn cut_after(&self, bytes: usize) {
        *self.armed.lock().unwrap() = Some(bytes);
    }

    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, armed: Arc<Mutex<Option<usize>>>, cuts: Arc<AtomicUsize>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let (n, cut) = {
            let mut a = armed.lock().unwrap();
            match *a {
                Some(left) if n >= left => {
                    *a = None;
                    (left, true)
                }
                Some(left) => {
                    *a = Some(left - n);
                    (n, false)
                }
                None => (n, false),
            }
        };
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
        if cut {
            cuts.fetch_add(1, Ordering::SeqCst);
            break;
        }
    }
    // Both directions end: the client reads what was forwarded, then EOF;
    // the server sees its client go away.
    upstream.abort();
    let _ = client_write.shutdown().await;
}
