"""Partner webhooks (N5), the worker's side: fan an event out to the partner's endpoints in
its inbox transaction (`fanout`), send each delivery outside any transaction and record
every attempt (`sender`), and the handlers that tie them to events (`handlers`)."""
