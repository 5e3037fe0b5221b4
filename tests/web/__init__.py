"""The web portal: pages over TestClient, and end-to-end in a real browser."""
