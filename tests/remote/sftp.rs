//! SFTP remote tests (in-process server and real sshd).
