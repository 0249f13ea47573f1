//! FTP/FTPS remote tests (in-process server and real vsftpd).
