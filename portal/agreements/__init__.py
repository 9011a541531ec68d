"""Agreements (issue 13): versioned texts, the company service agreement's life, and the
evidence kept of every signature.

Plain domain modules for now, no blueprint: `texts` (versions and validity windows),
`agreements` (draft, render, send, sign, decline, void) and `evidence` (canonical documents,
SHA-256, the hash chain of sign records and its check). They know nothing of requests: the
caller passes the session, `now` (aware UTC) and, for a signature, the Witness of where it
came from, and commits.
"""
