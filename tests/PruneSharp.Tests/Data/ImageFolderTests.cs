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
}
