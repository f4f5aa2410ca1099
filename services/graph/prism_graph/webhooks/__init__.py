"""Partner webhooks (N5) in the API: a partner's endpoints, their deliveries and attempts
(read), and the mutations that manage them. Nothing here sends: deliveries are the worker's
(`prism_syncer.webhooks`), a re-send is an event through the outbox."""
