## Greeting and help

start-greeting =
    Hi { $name }! I turn your words into pictures.
    Send /imagine followed by a description, for example:
    /imagine a lighthouse on a cliff at dusk, oil painting --ar 3:2
help-text =
    <b>How to use me</b>
    /imagine &lt;prompt&gt; — draw four pictures; then use the buttons:
    U1–U4 upscale one picture, V1–V4 make variations of it, 🔄 draws the prompt again.
    After an upscale you can vary it, zoom out or pan.
    In groups, write /imagine@{ $bot } if other bots are present, or reply to my question.
    /help — this message
simulated-notice = 🧪 This bot runs the built-in simulator: pictures are placeholders drawn locally, not Midjourney.
unknown-command = I don't know that command. Send /help to see what I can do.
private-text-hint = To draw something, send /imagine followed by a description, e.g. /imagine a red fox in the snow
access-denied = Sorry, this bot is not available to you here.

## Asking for a prompt

ask-prompt = What should I draw? Reply to this message with your prompt.
ask-prompt-placeholder = a red fox in the snow, watercolor
empty-prompt = The prompt is empty. Write what you want to see after /imagine, for example: /imagine a red fox in the snow
prompt-too-long = The prompt is { $length } characters long; this image service accepts at most { $limit }.

## The job's message

caption-by = by { $user }
caption-simulated = 🧪 simulated
status-queued = ⏳ Queued
status-queued-position =
    { $position ->
        [one] ⏳ Queued — 1 job ahead
       *[other] ⏳ Queued — { $position } jobs ahead
    }
status-needs-input = ✏️ Waiting for your input
status-running = 🎨 Drawing… { $percent }%
status-done = ✅ Done
status-failed = ❌ Failed: { $reason }
nothing-charged = Nothing was charged.
image-unavailable = The backend's image could not be fetched.
origin-upscale = Image #{ $index }
origin-variation = Variations of image #{ $index }
origin-reroll = New run
origin-action = { $action }

## Why a job failed

failure-banned = the prompt was rejected by moderation
failure-banned-detail = the prompt was rejected by moderation ({ $detail })
failure-queue-full = the image service's queue is full; try again in a few minutes
failure-timeout = no result after { $minutes } minutes
failure-cancelled = the job was cancelled
failure-lost = the image service lost track of this job
failure-invalid = the image service refused it: { $reason }
failure-unavailable = the image service could not be reached
failure-backend = { $reason }
failure-unknown = the image service reported an error

## Buttons

btn-upscale-subtle = Upscale (Subtle)
btn-upscale-creative = Upscale (Creative)
btn-upscale-2x = Upscale (2x)
btn-upscale-4x = Upscale (4x)
btn-vary-subtle = 🪄 Vary (Subtle)
btn-vary-strong = 🪄 Vary (Strong)
btn-vary-region = 🖌️ Vary (Region)
btn-zoom-out-2x = 🔍 Zoom Out 2x
btn-zoom-out-1-5x = 🔍 Zoom Out 1.5x
btn-custom-zoom = 🔍 Custom Zoom
btn-make-square = ↔️ Make Square
btn-retry = 🔁 Try again

## Answers to button presses

press-started = Started: { $action }
press-not-yours = Only the person who asked can use these buttons.
press-expired = This button is no longer available.
press-unavailable = This button can't be used here.
press-failed = Couldn't start it: { $reason }

## Errors

error-unavailable = The image service is not reachable right now. Please try again in a minute.
error-busy = The image service's queue is full. Please try again in a few minutes.
error-rejected = The image service refused this: { $reason }
error-internal = Something went wrong on our side; it has been logged. Please try again.

## Command menu

cmd-imagine = Draw pictures from a prompt
cmd-help = How to use this bot
