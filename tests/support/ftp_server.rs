//! In-process FTP/FTPS server (libunftp + unftp-sbe-fs) with a throwaway rcgen certificate.
