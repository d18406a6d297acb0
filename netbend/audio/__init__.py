"""Audio: the paper's spectrogram VAE, and the signal path around it.

``io`` (read/write files, clear errors), ``resample`` (polyphase), ``spectrogram`` (STFT, dB
scaling, 128-frame windows, with exact inverses), ``griffinlim`` (phase reconstruction),
``vae`` (the network), ``model`` (the wrapper plans and bending work with, model files),
``autoencode`` (recording -> bent reconstruction), ``loudness`` (output level, never clipping),
``sample`` (random latents and latent paths), ``synth`` (procedural training music),
``dataset`` and ``train`` (training with resume), ``metrics`` and ``figures``.

    from netbend.audio.model import load_audio_model
    from netbend.audio.io import read_audio, write_audio
    from netbend.audio.autoencode import PhaseOptions, encode_audio, reconstruct
    from netbend.audio.loudness import match_level, rms
    from netbend.bending import resolve_plan
    from netbend.plan import load_plan

    model = load_audio_model()                      # the built-in model
    audio = read_audio("drums.wav", model.spec.sample_rate)
    enc = encode_audio(model, audio)
    plan = resolve_plan(load_plan("examples/fig3_stochastic.yaml"), model, seed=0, variation=1)
    y, spectrogram = reconstruct(model, enc, plan, PhaseOptions("griffinlim"))
    y, level = match_level(y, rms(audio.samples))    # as loud as the input, never clipping
    write_audio("bent.wav", y, audio.source_rate)
"""
