# /stats and /broadcast, for the bot's admins.

stats-title = 📊 Statistics
stats-columns = today (UTC) · last 7 days
stats-jobs = Jobs: { $today } · { $week }
stats-outcome = { $outcome ->
    [succeeded] ✅ done: { $today } · { $week }
    [failed] ❌ failed: { $today } · { $week }
   *[running] ⏳ in progress: { $today } · { $week }
}
stats-kinds = By kind:
stats-kind = { $kind ->
    [imagine] imagine
    [variation] variation
    [reroll] reroll
    [upscale] upscale
    [zoom] zoom
    [pan] pan
    [inpaint] region
    [blend] blend
    [describe] describe
    [shorten] shorten
    [video] video
   *[other] { $kind }
}: { $outcomes }
stats-kind-outcome = { $outcome ->
    [succeeded] ✅{ $today }·{ $week }
    [failed] ❌{ $today }·{ $week }
   *[running] ⏳{ $today }·{ $week }
}
stats-failures = Failures:
stats-failure = { $reason ->
    [banned] moderation
    [queue_full] queue full
    [timeout] timed out
    [cancelled] cancelled
    [lost] lost by the service
    [invalid] refused by the service
    [unavailable] service unreachable
    [offline] no account online
    [remix_off] Remix off
    [account] bot's account
    [backend] service error
    [interrupted] restart (not started)
    [uncertain] restart (unknown)
    [unreadable_result] unreadable result
   *[other] { $reason }
}: { $today } · { $week }
stats-active-users = 👤 Active users: { $today } · { $week }
stats-new-users = 🆕 New users: { $today } · { $week }
stats-stars-received = ⭐ Stars received: { $today } · { $week }
stats-stars-refunded = ↩️ Stars refunded: { $today } · { $week }

broadcast-usage = Reply to the message to send with /broadcast; /broadcast cancel stops a running broadcast.
broadcast-already-running = A broadcast is running already; /broadcast cancel stops it.
broadcast-nobody = Nobody has started the bot yet (or everyone blocked it): there is nobody to send to.
broadcast-none-running = No broadcast is running.
broadcast-started = Broadcast to { $recipients } users started.
broadcast-cancelling = Stopping the broadcast.
broadcast-progress-running = 📣 Broadcast: sent { $sent } · blocked { $blocked } · failed { $failed } · remaining { $remaining }
broadcast-progress-done = 📣 Broadcast finished: sent { $sent } · blocked { $blocked } · failed { $failed } · remaining { $remaining }
broadcast-progress-cancelled = 📣 Broadcast cancelled: sent { $sent } · blocked { $blocked } · failed { $failed } · not sent { $remaining }
