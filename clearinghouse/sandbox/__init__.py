"""The sandbox clearinghouse: a real HTTP service that speaks each vendor's API.

It runs on its own port (`manage.py run_sandbox_clearinghouse`), serves every vendor face
under a path prefix (`/waystar`, `/availity`, `/change_healthcare`, `/claim_md`, `/sandbox`),
answers with X12 built by `edi`, keeps its state in a SQLite file, and takes orders through a
small control API (`/_control/`). It imports neither Django nor the project's models: it is a
stand-in for companies outside the practice, so it only shares the X12 package with them.

Modules: `web` (requests and responses), `store` (SQLite state), `answers` (X12 answers),
`engine` (what the clearinghouse does with a request), `faces` (each vendor's HTTP shapes),
`control` (control API and page), `server` (the HTTP server and the vendor modes).
"""
