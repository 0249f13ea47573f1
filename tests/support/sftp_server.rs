//! In-process SFTP server (russh server + russh-sftp handler) with fault injection.
