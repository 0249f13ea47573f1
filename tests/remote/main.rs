//! Remote access against real sockets: the in-process SFTP and FTP/FTPS servers, and OpenSSH's
//! sshd and vsftpd when FERRY_REAL_SERVERS=1.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod ftp;
mod hostile;
mod progress;
mod sftp;
