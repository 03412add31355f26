"""mjgram: a Telegram bot for Midjourney-style image APIs."""
