"""``reusetrack serve``'s web application: :mod:`reuse.cli.web.app` (pages, JSON API, templates) over
:mod:`reuse.cli.web.reader` (read-only access that a writing crawl never turns into a lock error).

Only the ``serve`` command imports it, so no other command loads the web stack."""
