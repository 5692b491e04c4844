"""The scene board: a local web page over `emsync score` (see docs/board.md).

`serve.run` starts it; `app.create_app` builds the ASGI app around a `Board` (project.py);
jobs.py runs `emsync score` in a subprocess and turns its progress into page events;
security.py keeps other local users, other web pages and paths outside the project out.
"""
