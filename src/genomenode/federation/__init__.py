"""Federation: Beacon queries answered by this node and its peer nodes together, without moving
individual-level data.

    peers.py      who the peers are (GENOMENODE_PEERS_FILE): URL, public keys, reach
    auth.py       node-to-node tokens: signed for each peer, verified against the peers file only
    client.py     the concurrent fan-out over HTTP, with per-peer timeouts and a total deadline
    answers.py    one node's Beacon answer, checked and reduced to what the merge needs
    aggregate.py  the merged Beacon response: per-node result sets, summed counts, node statuses
    service.py    Federation: the local answer and the peers' answers for one request
"""
