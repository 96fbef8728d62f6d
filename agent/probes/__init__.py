"""Probes: each module measures one thing and knows nothing of MQTT or storage.

``http`` (i-Speed/LibreSpeed-style speed and latency), ``ping`` (ICMP, TCP fallback),
``dns`` (resolution time), ``ookla`` (Ookla's server list, measured with the http engine),
``system`` (the agent's own health and load). ``wire`` and ``tcpinfo`` are the http probe's
plumbing.
"""
