"""The pack station: which boxes and materials an order needs, and where each unit goes."""
