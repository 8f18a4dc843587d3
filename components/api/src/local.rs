//! Native serving for `idp-sync-local` (not in the Spin build), on plain
//! `std::net`. Every connection gets its own thread, which reads one request,
//! hands it to the single thread that owns the `App` (its store is not
//! `Sync`) and writes the answer with `Connection: close`. With one request
//! per connection no thread ever sits in an idle keep-alive socket while
//! another connection's request waits: a browser opening six connections at
//! once gets six answers at once.
//!
//! What one client can hold is bounded: at most [`MAX_CONNECTIONS`]
//! connections are served at once (more wait, unaccepted, in the listen
//! queue until one closes), a whole request must arrive within
//! [`REQUEST_DEADLINE`] of its connection being accepted (else `408` and
//! close; a connection that sent nothing at all is just closed), and writing
//! the answer and draining what follows it have total deadlines too. Each
//! deadline is for the whole phase, not per read: trickling a byte now and
//! then does not extend it.

mod wire;

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use http::Method;

use wire::{ReadError, read_request, write_response};

use crate::respond::{Request, Response};

/// Connections served at once; beyond it, new connections wait in the
/// listen queue (they are not refused) until a served one closes. Each
/// costs a thread, so this bounds the threads a client can make us hold.
pub const MAX_CONNECTIONS: usize = 64;
/// From accepting a connection to having read its whole request (head and
/// body). Past it the client gets `408 request_timeout` and the connection
/// closes, however steadily it was trickling bytes.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Writing the whole answer.
const WRITE_DEADLINE: Duration = Duration::from_secs(30);
/// After answering, what a client still sends (e.g. the rest of a refused
/// body) is read and dropped, within these bounds, so closing does not reset
/// the connection before the client has read the answer.
const LINGER_DEADLINE: Duration = Duration::from_secs(2);
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
    // A permit per connection that may be served at once; a connection's
    // thread gives its permit back when it ends.
    let (release, permits) = mpsc::sync_channel(MAX_CONNECTIONS);
    for _ in 0..MAX_CONNECTIONS {
        let _ = release.try_send(());
    }
    loop {
        // Accept only with a permit in hand: over the cap, connections wait
        // in the kernel's listen queue, not in threads of ours.
        if permits.recv().is_err() {
            return; // unreachable: `release` is alive
        }
        let permit = Permit(release.clone());
        match listener.accept() {
            Ok((stream, _)) => {
                let exchanges = exchanges.clone();
                // On failure the closure, and with it the permit, is dropped.
                let spawned =
                    thread::Builder::new()
                        .name("connection".to_owned())
                        .spawn(move || {
                            connection(&stream, &exchanges);
                            drop(stream);
                            drop(permit);
                        });
                if let Err(e) = spawned {
                    eprintln!("idp-sync-local: no thread for a connection: {e}");
                }
            }
            Err(e) => {
                drop(permit);
                // E.g. out of file descriptors: give closing connections a moment.
                eprintln!("idp-sync-local: accepting a connection failed: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// The right to serve one connection; returned to the pool when dropped.
struct Permit(SyncSender<()>);

impl Drop for Permit {
    fn drop(&mut self) {
        // The pool has room for every permit, so this cannot be full.
        let _ = self.0.try_send(());
    }
}

/// Serves the one request of `stream`, then closes it.
fn connection(stream: &TcpStream, exchanges: &Sender<Exchange>) {
    let read_deadline = Instant::now() + REQUEST_DEADLINE;
    let mut input = BufReader::new(Timed::new(stream, read_deadline));
    let mut interim = Timed::new(stream, read_deadline);
    let (response, head) = match read_request(&mut input, &mut interim) {
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
        // A spare connection the client never used: nothing to answer.
        Err(ReadError::TimedOut) if input.get_ref().received == 0 => return,
        Err(error) => match error.response() {
            Some(response) => (response, false),
            None => return,
        },
    };
    let out = Timed::new(stream, Instant::now() + WRITE_DEADLINE);
    if write_response(&mut BufWriter::new(out), &response, head).is_ok() {
        linger(stream);
    }
}

/// Half-closes `stream` and drains what the client still sends, so the
/// answer is not lost to a reset when unread input remains at close.
fn linger(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let input = Timed::new(stream, Instant::now() + LINGER_DEADLINE);
    let _ = io::copy(&mut input.take(LINGER_BYTES), &mut io::sink());
}

/// A connection read or written against one deadline for the whole phase:
/// before each call the socket's timeout is set to the time left, and past
/// the deadline every call fails with `TimedOut`.
struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
    /// Bytes read so far.
    received: u64,
}

impl<'a> Timed<'a> {
    fn new(stream: &'a TcpStream, deadline: Instant) -> Self {
        Timed {
            stream,
            deadline,
            received: 0,
        }
    }

    /// The time left, or `TimedOut` when there is none.
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            Ok(left)
        }
    }
}

/// A socket timeout surfaces as `WouldBlock` on Unix and `TimedOut` on
/// Windows; both mean the deadline passed.
fn timed_out(error: io::Error) -> io::Error {
    match error.kind() {
        io::ErrorKind::WouldBlock => io::ErrorKind::TimedOut.into(),
        _ => error,
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        let mut stream = self.stream;
        let n = stream.read(buf).map_err(timed_out)?;
        self.received += n as u64;
        Ok(n)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        let mut stream = self.stream;
        stream.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut stream = self.stream;
        stream.flush()
    }
}
