"""``healthreach serve``: a local what-if page on one study, and its JSON API.

:mod:`~healthreach.serve.app` (routes and request checks),
:mod:`~healthreach.serve.session` (one tab's changes, undo and redo),
:mod:`~healthreach.serve.changes` (a session's changes kept as one valid scenario file),
:mod:`~healthreach.serve.payloads` (the JSON answers), :mod:`~healthreach.serve.page`
(the page: the baseline hearing map and the script in ``static/``); see docs/serve.md.
"""
