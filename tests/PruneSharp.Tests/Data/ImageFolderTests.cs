using PruneSharp.Data;
using PruneSharp.Tests.Support;
using SkiaSharp;

namespace PruneSharp.Tests.Data;

public class ImageFolderTests
{
    static void WriteSolid(string path, int width, int height, SKColor color, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void Resize_then_centre_crop_keeps_the_middle_of_a_wide_image()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("a"));
        // 16x8: columns 0-7 red, 8-15 blue. Shorter side 8 -> 16x8 (no scaling), centre crop 8x8 = columns 4-11.
        using (var bitmap = new SKBitmap(16, 8))
        {
            bitmap.Erase(new SKColor(255, 0, 0));
            using (var canvas = new SKCanvas(bitmap))
            using (var paint = new SKPaint { Color = new SKColor(0, 0, 255) })
                canvas.DrawRect(8, 0, 8, 8, paint);
            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(dir.File("a", "wide.png"), png.ToArray());
        }
        var preprocessing = Preprocessing.ParseNormalize("0.5,0.5,0.5/0.25,0.25,0.25") with { Resize = 8, Crop = 8 };
        var data = ImageFolder.Load(dir.Path, preprocessing);
        Assert.Equal((3, 8, 8), (data.Channels, data.Height, data.Width));
        var pixels = data.Pixels(0);
        Assert.Equal(255, pixels[0]);          // red channel, column 0 of the crop = column 4 of the image
        Assert.Equal(0, pixels[2 * 64 + 0]);   // blue channel there
        Assert.Equal(255, pixels[2 * 64 + 7]); // blue channel, column 7 of the crop = column 11
        Assert.Equal(0.5f, data.Normalization.Mean[0]);
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir.Path, Preprocessing.None));
        var metadata = new Dictionary<string, string>();
        preprocessing.WriteMetadata(metadata);
        Assert.Equal((8, 8), (Preprocessing.FromMetadata(metadata, "m.onnx")!.Resize, Preprocessing.FromMetadata(metadata, "m.onnx")!.Crop));
    }

    [Fact]
    public void Png_and_jpeg_images_are_decoded_resized_and_labelled_by_folder()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("b_blue"));
        Directory.CreateDirectory(dir.File("a_red"));
        WriteSolid(dir.File("a_red", "1.png"), 10, 6, new SKColor(200, 10, 30), SKEncodedImageFormat.Png);
        WriteSolid(dir.File("a_red", "2.jpg"), 5, 5, new SKColor(200, 10, 30), SKEncodedImageFormat.Jpeg);
        WriteSolid(dir.File("b_blue", "1.png"), 3, 9, new SKColor(0, 40, 220), SKEncodedImageFormat.Png);
        File.WriteAllText(dir.File("b_blue", "notes.txt"), "not an image");

        var data = ImageFolder.Load(dir.Path, 4, 4);
        Assert.Equal(["a_red", "b_blue"], data.Classes);
        Assert.Equal(3, data.Count);
        Assert.Equal(new long[] { 0, 0, 1 }, new[] { data.Label(0), data.Label(1), data.Label(2) });
        void AssertSolid(int index, byte r, byte g, byte b, int tolerance)
        {
            var pixels = data.Pixels(index);
            for (int p = 0; p < 16; p++)
            {
                Assert.InRange(pixels[p], r - tolerance, r + tolerance);
                Assert.InRange(pixels[16 + p], g - tolerance, g + tolerance);
                Assert.InRange(pixels[32 + p], b - tolerance, b + tolerance);
            }
        }
        AssertSolid(0, 200, 10, 30, 0);
        AssertSolid(1, 200, 10, 30, 6);
        AssertSolid(2, 0, 40, 220, 0);

        var grey = ImageFolder.Load(dir.Path, 2, 3, channels: 1);
        Assert.Equal((1, 2, 3), (grey.Channels, grey.Height, grey.Width));
    }

    [Fact]
    public void Empty_class_folder_is_named()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("cat"));
        Directory.CreateDirectory(dir.File("dog"));
        WriteSolid(dir.File("cat", "1.png"), 2, 2, SKColors.White, SKEncodedImageFormat.Png);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir.Path, 2, 2));
        Assert.Equal(dir.File("dog"), e.Path);
    }

    [Fact]
    public void Undecodable_image_is_named()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("cat"));
        File.WriteAllBytes(dir.File("cat", "broken.png"), [1, 2, 3, 4]);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir.Path, 2, 2));
        Assert.Equal(dir.File("cat", "broken.png"), e.Path);
    }

    [Fact]
    public void Folder_without_class_folders_is_rejected()
    {
        using var dir = new TempFolder();
        Assert.Throws<DataFormatException>(() => ImageFolder.Load(dir.Path, 2, 2));
        Assert.Throws<DataNotFoundException>(() => ImageFolder.Load(dir.File("absent"), 2, 2));
    }

    /// <summary>torchvision's Resize(side) + CenterCrop(crop) geometry, written out naively (Python's round is half to even).</summary>
    static (int Width, int Height, int Left, int Top) Torchvision(int w, int h, int side, int crop)
    {
        int newW = w <= h ? side : (int)Math.Floor((double)side * w / h);
        int newH = w <= h ? (int)Math.Floor((double)side * h / w) : side;
        static int PythonRound(double x) { double f = Math.Floor(x); double d = x - f; return (int)(d > 0.5 || (d == 0.5 && f % 2 != 0) ? f + 1 : f); }
        return (newW, newH, PythonRound((newW - crop) / 2.0), PythonRound((newH - crop) / 2.0));
    }

    [Theory]
    [InlineData(8, 3, 4, 4)]   // long side int(4 * 8 / 3) = 10, not round(10.67) = 11
    [InlineData(9, 4, 4, 4)]   // crop offset round(2.5) = 2
    [InlineData(7, 4, 4, 4)]   // round(1.5) = 2
    [InlineData(4, 11, 5, 3)]
    [InlineData(640, 480, 256, 224)]
    [InlineData(500, 375, 256, 224)]
    [InlineData(333, 500, 232, 224)]
    public void Resize_and_crop_geometry_is_torchvisions(int w, int h, int side, int crop) =>
        Assert.Equal(Torchvision(w, h, side, crop), ImageFolder.Geometry(w, h, crop, crop, side));

    [Fact]
    public void An_odd_margin_is_cropped_as_torchvision_rounds_it()
    {
        using var dir = new TempFolder();
        // 9x4, column x coloured (20x, 0, 0); no scaling at --resize 4; the 4x4 crop starts at column round(2.5) = 2.
        using (var bitmap = new SKBitmap(9, 4))
        {
            for (int x = 0; x < 9; x++)
                for (int y = 0; y < 4; y++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(20 * x), 0, 0));
            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(dir.File("odd.png"), png.ToArray());
        }
        var data = ImageFolder.Load(dir.Path, Preprocessing.None with { Resize = 4, Crop = 4 });
        Assert.Equal(new[] { ImageFolder.Unlabeled }, data.Classes);
        var pixels = data.Pixels(0);
        Assert.Equal(new byte[] { 40, 60, 80, 100 }, pixels[..4].ToArray());
    }

    [Fact]
    public void A_folder_of_images_without_class_folders_is_unlabeled_and_an_empty_one_refused()
    {
        using var dir = new TempFolder();
        WriteSolid(dir.File("b.png"), 6, 6, new SKColor(10, 20, 30), SKEncodedImageFormat.Png);
        WriteSolid(dir.File("a.png"), 6, 6, new SKColor(30, 20, 10), SKEncodedImageFormat.Png);
        var data = ImageFolder.Load(dir.Path, Preprocessing.None with { Crop = 6 });
        Assert.Equal(2, data.Count);
        Assert.Equal(new[] { ImageFolder.Unlabeled }, data.Classes);
        Assert.Equal(30, data.Pixels(0)[0]); // a.png first
        using var empty = new TempFolder();
        Assert.Contains("neither class sub-folders", Assert.Throws<DataFormatException>(() => ImageFolder.Load(empty.Path, Preprocessing.None with { Crop = 6 })).Message);
    }
}
