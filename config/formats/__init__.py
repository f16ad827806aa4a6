"""Date formats for the admin: to the second, with the zone, as the trace shows them."""
