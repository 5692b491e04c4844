"""The Generate Score window (Resolve's UIManager): layout and event wiring only.

The logic lives in bridge.py; this file only reads the widgets and shows the outcome, so
everything worth testing can be tested without a UI. Stdlib only, like bridge.py.
"""

from __future__ import annotations

import random

try:
    from . import bridge
except ImportError:  # loaded from Resolve's Scripts menu, not as a package
    import bridge


def run_dialog(fusion, bmd, defaults, generate) -> None:
    """Show the window until closed. `generate(options, status)` returns a summary text or
    raises bridge.BridgeError; both are shown in the status line, not only in the console."""
    ui = fusion.UIManager
    disp = bmd.UIDispatcher(ui)
    moods = list(bridge.MOOD_CHOICES)
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
                ui.Label({"ID": "MoodHelp", "Text": bridge.AUTO_TEXT, "WordWrap": True}),
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
                        ui.LineEdit({"ID": "Seed", "Text": str(defaults.seed)}),
                        ui.Button({"ID": "NewTake", "Text": "New take", "Weight": 0}),
                    ]
                ),
                ui.HGroup(
                    [
                        ui.Label({"Text": "SoundFont", "Weight": 0.25}),
                        ui.LineEdit(
                            {
                                "ID": "SoundFont",
                                "Text": defaults.soundfont or "",
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
    it["Engine"].AddItems(list(bridge.ENGINES))
    _show_defaults(it, defaults, moods)

    def status(text: str) -> None:
        it["Status"].Text = text

    def on_slider(ev) -> None:
        it["VLabel"].Text = f"Valence {it['Valence'].Value / 100:.2f}"
        it["ALabel"].Text = f"Arousal {it['Arousal'].Value / 100:.2f}"

    def on_new_take(ev) -> None:
        it["Seed"].Text = str(random.randint(1, 99999))

    def on_go(ev) -> None:
        try:
            options = bridge.options_from_fields(
                it["Mood"].CurrentText,
                it["Valence"].Value,
                it["Arousal"].Value,
                it["Engine"].CurrentText,
                it["Seed"].Text,
                it["SoundFont"].Text,
            )
            status("Working...")
            status(generate(options, status))
        except bridge.BridgeError as exc:
            status(f"Error: {exc}")
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


def _show_defaults(it, defaults, moods) -> None:
    emotion = (defaults.emotion or "").strip().lower()
    if emotion in bridge.EKMAN:
        it["Mood"].CurrentIndex = moods.index(emotion.capitalize())
    elif "," in emotion:
        try:
            v, a = (float(x) for x in emotion.split(","))
            it["Valence"].Value, it["Arousal"].Value = round(v * 100), round(a * 100)
            it["Mood"].CurrentIndex = moods.index("Valence/Arousal")
        except ValueError:
            it["Mood"].CurrentIndex = 0
    else:
        it["Mood"].CurrentIndex = 0
