"""`python -m bot` runs the bot, like `mjgram run`."""

from bot.cli import main

main()
