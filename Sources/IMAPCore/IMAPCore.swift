// The IMAP codec lives here; see Package.swift.
