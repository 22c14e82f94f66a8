"""The daily digest (issue 13.1): one message for a window, to where managers already are.

- ``compose``: a pure function from the window's ``TeamData``, the previous period's and the
  store's sync state to a ``Digest`` (sections of items; each alert with a stable id).
- ``render``: the digest as plain text, HTML (every data string escaped) and Slack JSON.
- ``deliver``: one delivery per channel (webhook, SMTP, SES, SNS), retried within a bound.
- ``state``: what was sent (``--only-new``) and when the schedule last sent, in the store state.
- ``send``: ``send_digest``, what ``gt-throughput digest`` and ``serve``'s schedule run.

docs/digest.md explains the sections and how to set a channel up.
"""
