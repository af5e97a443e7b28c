# Run by db:prepare when it creates the database (the first deploy).
%w[first second third].each do |word|
  Note.find_or_create_by!(body: "The #{word} note")
end
