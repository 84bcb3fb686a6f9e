"""Orders: their lifecycle and the queries people ask of them."""
