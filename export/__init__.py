"""The trained transformer network to ONNX: checked against PyTorch, with its model card.

    python -m export runs/great_wave/final.pth --out models/great_wave.onnx --name "The Great Wave" ...
"""
