// Programs the stream tests build: a small C++ program (classes, templates, inline
// functions, exceptions, virtual functions) and generated C programs (SyntheticC).
import SyntheticC

enum Programs {
    /// Two C++ files: a class hierarchy with virtual functions, a template, an inline
    /// function in a header, and exceptions thrown across files.
    static let cxx: [String: String] = [
        "shapes.h": """
            #include <stdexcept>
            #include <string>
            #include <vector>
            struct Shape {
                virtual ~Shape() = default;
                virtual double area() const = 0;
                virtual std::string name() const { return "shape"; }
            };
            struct Square : Shape {
                explicit Square(double s) : side(s) { if (s < 0) throw std::invalid_argument("negative side"); }
                double area() const override { return side * side; }
                std::string name() const override { return "square"; }
                double side;
            };
            template <typename T> T total(const std::vector<T> &values) {
                T sum{};
                for (const T &v : values) sum += v;
                return sum;
            }
            inline int twice(int x) { return 2 * x; }
            double measure(const std::vector<Shape *> &shapes);
            Shape *make(int kind, double size);
            """,
        "shapes.cc": """
            #include "shapes.h"
            struct Circle : Shape {
                explicit Circle(double r) : radius(r) {}
                double area() const override { return 3.14159 * radius * radius; }
                double radius;
            };
            Shape *make(int kind, double size) {
                if (kind == 0) return new Square(size);
                if (kind == 1) return new Circle(size);
                throw std::runtime_error("unknown kind " + std::to_string(kind));
            }
            double measure(const std::vector<Shape *> &shapes) {
                std::vector<double> areas;
                for (Shape *s : shapes) areas.push_back(s->area());
                return total(areas);
            }
            """,
        "main.cc": """
            #include "shapes.h"
            #include <cstdio>
            int main(int argc, char **argv) {
                (void)argv;
                std::vector<Shape *> shapes;
                try {
                    for (int i = 0; i < argc + 2; i++) shapes.push_back(make(i % 3, twice(i)));
                } catch (const std::exception &e) {
                    std::printf("%s\\n", e.what());
                }
                std::printf("%g %d\\n", measure(shapes), total(std::vector<int>{1, 2, twice(argc)}));
                for (Shape *s : shapes) delete s;
                return 0;
            }
            """,
    ]

    /// A generated C program of `files` module files.
    static func synthetic(files: Int, seed: UInt64) -> GeneratedProgram {
        SyntheticC.generate(ProgramSpec(files: files, functionsPerFile: 4, seed: seed))
    }
}
