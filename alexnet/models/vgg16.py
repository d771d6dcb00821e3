# Generated from spec/vgg16.yaml by `python -m tools.generate`; do not edit.
"""VGG-16 (torchvision).

Input 3x224x224; 138,357,544 parameters; 15,470,264,320 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

__all__ = ["VGG16"]

SPEC = 'vgg16'
INPUT_SHAPE = (3, 224, 224)


class VGG16(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, padding=1),  # conv1: 3x224x224 -> 64x224x224
            nn.ReLU(inplace=True),  # relu1: 64x224x224
            nn.Conv2d(64, 64, kernel_size=3, padding=1),  # conv2: 64x224x224 -> 64x224x224
            nn.ReLU(inplace=True),  # relu2: 64x224x224
            nn.MaxPool2d(kernel_size=2),  # pool1: 64x224x224 -> 64x112x112
            nn.Conv2d(64, 128, kernel_size=3, padding=1),  # conv3: 64x112x112 -> 128x112x112
            nn.ReLU(inplace=True),  # relu3: 128x112x112
            nn.Conv2d(128, 128, kernel_size=3, padding=1),  # conv4: 128x112x112 -> 128x112x112
            nn.ReLU(inplace=True),  # relu4: 128x112x112
            nn.MaxPool2d(kernel_size=2),  # pool2: 128x112x112 -> 128x56x56
            nn.Conv2d(128, 256, kernel_size=3, padding=1),  # conv5: 128x56x56 -> 256x56x56
            nn.ReLU(inplace=True),  # relu5: 256x56x56
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # conv6: 256x56x56 -> 256x56x56
            nn.ReLU(inplace=True),  # relu6: 256x56x56
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # conv7: 256x56x56 -> 256x56x56
            nn.ReLU(inplace=True),  # relu7: 256x56x56
            nn.MaxPool2d(kernel_size=2),  # pool3: 256x56x56 -> 256x28x28
            nn.Conv2d(256, 512, kernel_size=3, padding=1),  # conv8: 256x28x28 -> 512x28x28
            nn.ReLU(inplace=True),  # relu8: 512x28x28
            nn.Conv2d(512, 512, kernel_size=3, padding=1),  # conv9: 512x28x28 -> 512x28x28
            nn.ReLU(inplace=True),  # relu9: 512x28x28
            nn.Conv2d(512, 512, kernel_size=3, padding=1),  # conv10: 512x28x28 -> 512x28x28
            nn.ReLU(inplace=True),  # relu10: 512x28x28
            nn.MaxPool2d(kernel_size=2),  # pool4: 512x28x28 -> 512x14x14
            nn.Conv2d(512, 512, kernel_size=3, padding=1),  # conv11: 512x14x14 -> 512x14x14
            nn.ReLU(inplace=True),  # relu11: 512x14x14
            nn.Conv2d(512, 512, kernel_size=3, padding=1),  # conv12: 512x14x14 -> 512x14x14
            nn.ReLU(inplace=True),  # relu12: 512x14x14
            nn.Conv2d(512, 512, kernel_size=3, padding=1),  # conv13: 512x14x14 -> 512x14x14
            nn.ReLU(inplace=True),  # relu13: 512x14x14
            nn.MaxPool2d(kernel_size=2),  # pool5: 512x14x14 -> 512x7x7
        )
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))  # avgpool: 512x7x7 -> 512x7x7
        self.classifier = nn.Sequential(
            nn.Linear(25088, 4096),  # fc6: 25088 -> 4096
            nn.ReLU(inplace=True),  # relu14: 4096
            nn.Dropout(p=0.5),  # drop6: 4096
            nn.Linear(4096, 4096),  # fc7: 4096 -> 4096
            nn.ReLU(inplace=True),  # relu15: 4096
            nn.Dropout(p=0.5),  # drop7: 4096
            nn.Linear(4096, num_classes),  # fc8: 4096 -> 1000
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
