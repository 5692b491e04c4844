"""The Generate Score window (Resolve's UIManager): layout and event wiring only.

The logic lives in bridge.py, which calls this module and hands it everything it shows (the
`form`) and one function to run (`generate`); this module imports nothing of ours, so the two
never import each other, and everything worth testing can be tested without a UI.
Stdlib only, like bridge.py.
"""

from __future__ import annotations

import random


def run_dialog(fusion, bmd, form: dict, generate) -> None:
    """Show the window until closed.

    `form`: "moods", "engines" (choices), "help" (text under the mood), and the starting
    "mood", "valence", "arousal" (-100..100), "engine", "seed", "soundfont".
    `generate(fields, status)`: run with the widgets' values (same keys as `form`'s starting
    values); returns the text for the status line (a summary or what went wrong).
    """
    ui = fusion.UIManager
    disp = bmd.UIDispatcher(ui)
    moods = list(form["moods"])
    win = disp.AddWindow(
        {
            "ID": "EmsyncDlg",
            "WindowTitle": "EMSYNC: Generate Score",
            "Geometry": [300, 200, 520, 330],
        },
        ui.VGroup(
            [
                ui.HGroup(
                    [ui.Label({"Text": "Mood", "Weight": 0.25}), ui.ComboBox({"ID": "Mood"})]
                ),
                ui.Label({"ID": "MoodHelp", "Text": form["help"], "WordWrap": True}),
                ui.HGroup(
                    [
                        ui.Label({"ID": "VLabel", "Text": "Valence 0.00", "Weight": 0.25}),
                        ui.Slider({"ID": "Valence", "Minimum": -100, "Maximum": 100, "Value": 0}),
                    ]
                ),
                ui.HGroup(
                    [
                        ui.Label({"ID": "ALabel", "Text": "Arousal 0.00", "Weight": 0.25}),
                        ui.Slider({"ID": "Arousal", "Minimum": -100, "Maximum": 100, "Value": 0}),
                    ]
                ),
                ui.HGroup(
                    [ui.Label({"Text": "Engine", "Weight": 0.25}), ui.ComboBox({"ID": "Engine"})]
                ),
                ui.HGroup(
                    [
                        ui.Label({"Text": "Seed", "Weight": 0.25}),
                        ui.LineEdit({"ID": "Seed", "Text": str(form["seed"])}),
                        ui.Button({"ID": "NewTake", "Text": "New take", "Weight": 0}),
                    ]
                ),
                ui.HGroup(
                    [
                        ui.Label({"Text": "SoundFont", "Weight": 0.25}),
                        ui.LineEdit(
                            {
                                "ID": "SoundFont",
                                "Text": form["soundfont"] or "",
                                "PlaceholderText": "bundled SoundFont",
                            }
                        ),
                    ]
                ),
                ui.Label({"ID": "Status", "Text": "Ready.", "WordWrap": True}),
                ui.HGroup(
                    {"Weight": 0},
                    [
                        ui.Button({"ID": "Close", "Text": "Close"}),
                        ui.Button({"ID": "Go", "Text": "Generate Score"}),
                    ],
                ),
            ]
        ),
    )
    it = win.GetItems()
    it["Mood"].AddItems(moods)
    it["Engine"].AddItems(list(form["engines"]))
    it["Mood"].CurrentIndex = moods.index(form["mood"]) if form["mood"] in moods else 0
    it["Engine"].CurrentIndex = list(form["engines"]).index(form["engine"])
    it["Valence"].Value, it["Arousal"].Value = form["valence"], form["arousal"]
    on_slider_text(it)

    def status(text: str) -> None:
        it["Status"].Text = text

    def on_slider(ev) -> None:
        on_slider_text(it)

    def on_new_take(ev) -> None:
        it["Seed"].Text = str(random.randint(1, 99999))

    def on_go(ev) -> None:
        fields = {
            "mood": it["Mood"].CurrentText,
            "valence": it["Valence"].Value,
            "arousal": it["Arousal"].Value,
            "engine": it["Engine"].CurrentText,
            "seed": it["Seed"].Text,
            "soundfont": it["SoundFont"].Text,
        }
        status("Working...")
        try:
            status(generate(fields, status))
        except Exception as exc:  # noqa: BLE001 - show bugs in the window, not only the console
            status(f"Internal error (please report): {type(exc).__name__}: {exc}")

    def on_close(ev) -> None:
        disp.ExitLoop()

    win.On.Valence.ValueChanged = on_slider
    win.On.Arousal.ValueChanged = on_slider
    win.On.NewTake.Clicked = on_new_take
    win.On.Go.Clicked = on_go
    win.On.Close.Clicked = on_close
    win.On.EmsyncDlg.Close = on_close
    win.Show()
    disp.RunLoop()
    win.Hide()


def on_slider_text(it) -> None:
    it["VLabel"].Text = f"Valence {it['Valence'].Value / 100:.2f}"
    it["ALabel"].Text = f"Arousal {it['Arousal'].Value / 100:.2f}"
