//! Remote file systems behind one trait: SFTP, FTP/FTPS and the local disk.

pub mod hostkeys;
pub mod keyfile;
