//! One socket descriptor shared by a connection's read side, write side and
//! whoever needs to close it from outside.

use std::io::{self, Read, Write};

use std::net::TcpStream;
use std::sync::Arc;

/// A `TcpStream` behind an `Arc`, readable and writable through any clone.
///
/// `&TcpStream` implements `Read` and `Write`, so the read half, the write
/// half and a registry that shuts connections down can all share one
/// descriptor. `TcpStream::try_clone` would `dup` it instead: one descriptor
/// per clone, which made every server connection cost four of them and
/// every client connection three.
#[derive(Debug, Clone)]
pub struct SharedSocket(Arc<TcpStream>);

impl SharedSocket {
    /// Shares `stream`; it is closed when the last clone is dropped.
    pub fn new(stream: TcpStream) -> Self {
        SharedSocket(Arc::new(stream))
    }

    /// The socket, for setting options or shutting it down.
    pub fn stream(&self) -> &TcpStream {
        &self.0
    }
}

impl Read for SharedSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl crate::ReadToVec for SharedSocket {
    const APPENDS_IN_PLACE: bool = true;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        (&*self.0).read_to_vec(buf, max)
    }

    fn read_to_vec_then(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        after: &mut [u8],
    ) -> io::Result<(usize, usize)> {
        (&*self.0).read_to_vec_then(buf, max, after)
    }
}

impl Write for SharedSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn clones_read_and_write_the_same_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        let mut reader = SharedSocket::new(server);
        let mut writer = reader.clone();
        let mut client = SharedSocket::new(client);
        client.write_all(b"ping").expect("write");
        let mut buf = [0u8; 4];
        reader.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"ping");
        writer.write_all(b"pong").expect("write");
        client.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"pong");
    }
}
