//! Native serving for `idp-sync-local` (not in the Spin build), on plain
//! `std::net`. Every connection gets its own thread, which reads one request,
//! hands it to the single thread that owns the `App` (its store is not
//! `Sync`) and writes the answer with `Connection: close`. With one request
//! per connection no thread ever sits in an idle keep-alive socket while
//! another connection's request waits: a browser opening six connections at
//! once gets six answers at once.

mod wire;

use std::io::{self, BufReader, BufWriter};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use http::Method;

use wire::{read_request, write_response};

use crate::respond::{Request, Response};

/// How long a connection may stay silent before the request is complete;
/// browsers open spare connections they may use only seconds later.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After answering, what a client still sends (e.g. the rest of a refused
/// body) is read and dropped, within these bounds, so closing does not reset
/// the connection before the client has read the answer.
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 1024 * 1024;

/// A request waiting for the serving thread, and where its answer goes.
pub struct Exchange {
    pub request: Request,
    /// The connection's thread waits on the other end; if the client has
    /// gone, sending fails and there is nothing to do about it.
    pub reply: Sender<Response>,
}

/// Listens on `addr` and accepts connections on a background thread.
/// Returns the bound address (for port 0) and the requests as they arrive.
pub fn listen(addr: impl ToSocketAddrs) -> io::Result<(SocketAddr, Receiver<Exchange>)> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    let (sender, exchanges) = mpsc::channel();
    thread::Builder::new()
        .name("accept".to_owned())
        .spawn(move || accept(&listener, &sender))?;
    Ok((local, exchanges))
}

fn accept(listener: &TcpListener, exchanges: &Sender<Exchange>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let exchanges = exchanges.clone();
                let spawned = thread::Builder::new()
                    .name("connection".to_owned())
                    .spawn(move || connection(&stream, &exchanges));
                if let Err(e) = spawned {
                    eprintln!("idp-sync-local: no thread for a connection: {e}");
                }
            }
            Err(e) => {
                // E.g. out of file descriptors: give closing connections a moment.
                eprintln!("idp-sync-local: accepting a connection failed: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Serves the one request of `stream`, then closes it.
fn connection(stream: &TcpStream, exchanges: &Sender<Exchange>) {
    // Without timeouts a stalled client would only cost this thread; with
    // them it does not cost it forever.
    if stream.set_read_timeout(Some(READ_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    let mut input = BufReader::new(stream);
    let (response, head) = match read_request(&mut input, &mut &*stream) {
        Ok(request) => {
            let head = request.method() == Method::HEAD;
            let (reply, answer) = mpsc::channel();
            if exchanges.send(Exchange { request, reply }).is_err() {
                return; // the serving thread is gone
            }
            match answer.recv() {
                Ok(response) => (response, head),
                Err(_) => return,
            }
        }
        Err(error) => match error.response() {
            Some(response) => (response, false),
            None => return,
        },
    };
    if write_response(&mut BufWriter::new(stream), &response, head).is_ok() {
        linger(stream);
    }
}

/// Half-closes `stream` and drains what the client still sends, so the
/// answer is not lost to a reset when unread input remains at close.
fn linger(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err()
        || stream.set_read_timeout(Some(LINGER_TIMEOUT)).is_err()
    {
        return;
    }
    let _ = io::copy(&mut io::Read::take(stream, LINGER_BYTES), &mut io::sink());
}
